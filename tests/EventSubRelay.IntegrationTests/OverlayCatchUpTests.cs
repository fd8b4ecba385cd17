using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using EventSubRelay.Events;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

/// <summary>Catch-up, receipts, token revocation and protocols of the overlay hub.</summary>
public sealed class OverlayCatchUpTests(OverlayCatchUpTests.Relay relay) : IClassFixture<OverlayCatchUpTests.Relay>
{
    public sealed class Relay : RelayFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Overlay:ReplayMaxEvents"] = "5",
            ["Overlay:ReplayFreshnessMinutes:ChatMessage"] = "0",
        };
    }

    private RelayFactory Factory => relay.Factory;

    [Fact]
    public async Task Replay_is_limited_to_the_most_recent_events_and_says_how_many_were_skipped()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var witness = await Factory.SubscribedOverlayAsync(broadcaster);
        var token = witness.Token;
        var sent = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            sent.Add(await Factory.SendNotificationAsync(broadcaster));
        }

        var chat = await Factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster));
        await witness.WaitForAsync(9);
        await using var overlay = await Factory.ConnectSubscribedAsync(token, null, "Follow", "ChatMessage");
        var result = await overlay.Connection.InvokeAsync<ResumeResult>("Resume", 0L);

        result.Should().Be(new ResumeResult(5, 4));
        var received = await overlay.WaitForAsync(5);
        received.Select(e => e.Id).Should().Equal(sent.TakeLast(5));
        received.Should().NotContain(e => e.Id == chat, "chat older than its freshness window is not replayed");
    }

    [Fact]
    public async Task GetRecentEvents_returns_the_latest_events_of_the_requested_types_oldest_first()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.SubscribedOverlayAsync(broadcaster);
        var first = await Factory.SendNotificationAsync(broadcaster);
        await Factory.SendNotificationAsync(broadcaster, "channel.cheer", "1");
        var second = await Factory.SendNotificationAsync(broadcaster);
        var third = await Factory.SendNotificationAsync(broadcaster);
        await Factory.SendNotificationAsync(TwitchWebhook.NewBroadcasterId());
        await overlay.WaitForAsync(4);

        var recent = await overlay.Connection.InvokeAsync<OverlayEnvelope[]>("GetRecentEvents", 2, new[] { "Follow" });
        var all = await overlay.Connection.InvokeAsync<OverlayEnvelope[]>("GetRecentEvents", 10, null);

        recent.Select(e => e.Id).Should().Equal(second, third);
        all.Should().HaveCount(4).And.OnlyContain(e => e.BroadcasterUserId == broadcaster);
        all[0].Id.Should().Be(first);
    }

    [Fact]
    public async Task Status_reports_each_connection_with_its_subscriptions_last_event_and_last_ack()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster, "alert box");
        await using var overlay = await Factory.ConnectOverlayAsync(token);
        await overlay.SubscribeAsync("Follow");
        var follow = await Factory.SendNotificationAsync(broadcaster);
        await overlay.NextAsync();
        await overlay.Connection.InvokeAsync("Ack", follow);
        using var client = Factory.CreateRelayClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var status = await client.GetFromJsonAsync<OverlayStatus>("/api/overlays/status");
        using var anonymous = await Factory.CreateRelayClient().GetAsync("/api/overlays/status");

        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        status!.BroadcasterUserId.Should().Be(broadcaster);
        var connection = status.Connections.Should().ContainSingle().Subject;
        connection.TokenName.Should().Be("alert box");
        connection.SubscribedTypes.Should().Equal("Follow");
        connection.LastEvent!.Id.Should().Be(follow);
        connection.LastAck!.Id.Should().Be(follow);
    }

    [Fact]
    public async Task Revoking_a_token_disconnects_its_live_connections_within_seconds()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        await using var overlay = await Factory.ConnectOverlayAsync(token);
        var closed = new TaskCompletionSource();
        overlay.Connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };

        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<OverlayTokens>();
            var id = (await tokens.ListAsync(broadcaster, CancellationToken.None)).Single().Id;
            (await tokens.RevokeAsync(id, CancellationToken.None)).Should().BeTrue();
        }

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        overlay.Connection.State.Should().Be(HubConnectionState.Disconnected);
    }

    [Fact]
    public async Task Rotating_a_token_keeps_its_name_and_broadcaster_and_revokes_the_old_one()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await Factory.CreateOverlayTokenAsync(broadcaster, "goal bar");
        await using var scope = Factory.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<OverlayTokens>();
        var old = (await tokens.ListAsync(broadcaster, CancellationToken.None)).Single();

        var rotated = await tokens.RotateAsync(old.Id, CancellationToken.None);

        rotated.Should().NotBeNull();
        rotated!.Value.Token.Name.Should().Be("goal bar");
        rotated.Value.Token.BroadcasterUserId.Should().Be(broadcaster);
        (await tokens.FindActiveAsync(rotated.Value.Secret, CancellationToken.None)).Should().NotBeNull();
        (await tokens.ListAsync(broadcaster, CancellationToken.None)).Single(t => t.Id == old.Id).RevokedAt.Should().NotBeNull();
        (await tokens.RotateAsync(old.Id, CancellationToken.None)).Should().BeNull("a revoked token cannot be rotated again");
    }

    [Fact]
    public async Task MessagePack_clients_receive_the_same_envelope_as_json_clients()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        await using var json = await Factory.ConnectOverlayAsync(token);
        await using var messagePack = await Factory.ConnectOverlayAsync(token, messagePack: true);
        await json.SubscribeAsync("*");
        await messagePack.SubscribeAsync("*");

        var id = await Factory.SendNotificationAsync(broadcaster);
        var viaJson = await json.NextAsync();
        var viaMessagePack = await messagePack.NextAsync();

        viaMessagePack.Id.Should().Be(id);
        viaMessagePack.Seq.Should().Be(viaJson.Seq);
        viaMessagePack.Event.Should().Be(viaJson.Event);
        viaMessagePack.Data.GetRawText().Should().Be(viaJson.Data.GetRawText());
    }
}

public sealed class OverlayTokenRateLimitTests
{
    [Fact]
    public async Task Repeated_invalid_tokens_from_one_address_are_refused_with_429_but_a_valid_token_is_not()
    {
        await using var factory = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["Overlay:InvalidTokenAttemptsPerMinute"] = "3" });
        using var client = factory.CreateRelayClient();
        var valid = await factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId());

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsync($"/hubs/overlay/negotiate?negotiateVersion=1&access_token=esr_guess{i}", null);
            statuses.Add(response.StatusCode);
        }

        using var validAfterwards = await client.PostAsync($"/hubs/overlay/negotiate?negotiateVersion=1&access_token={valid}", null);
        using var invalidAfterwards = await client.PostAsync("/hubs/overlay/negotiate?negotiateVersion=1&access_token=esr_guess-again", null);

        statuses.Should().Equal(HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests);
        validAfterwards.StatusCode.Should().Be(HttpStatusCode.OK);
        invalidAfterwards.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        invalidAfterwards.Headers.RetryAfter.Should().NotBeNull();
    }
}
