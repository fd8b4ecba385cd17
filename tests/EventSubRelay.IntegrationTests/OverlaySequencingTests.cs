using System.Net;
using System.Net.Http.Headers;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Events;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// The sequencing gate is per broadcaster: one broadcaster's joining overlays (or stuck sends) never hold up
/// another's alerts, and joins of different broadcasters run side by side. Hub arguments are bounded.
/// </summary>
public sealed class OverlaySequencingTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    private RelayFactory Factory => relay.Factory;

    private OverlaySequencer Sequencer => Factory.Services.GetRequiredService<OverlaySequencer>();

    [Fact]
    public async Task A_broadcaster_whose_turn_is_held_does_not_delay_another_broadcasters_alerts()
    {
        var held = TwitchWebhook.NewBroadcasterId();
        var free = TwitchWebhook.NewBroadcasterId();
        await using var heldOverlay = await Factory.SubscribedOverlayAsync(held);
        await using var freeOverlay = await Factory.SubscribedOverlayAsync(free);

        string heldAlert;
        using (await Sequencer.JoinTurnAsync(held, CancellationToken.None))
        {
            heldAlert = await Factory.SendNotificationAsync(held);
            var freeAlert = await Factory.SendNotificationAsync(free);

            (await freeOverlay.NextAsync()).Id.Should().Be(freeAlert);
            heldOverlay.All.Should().BeEmpty("the held broadcaster's events wait for its turn");
        }

        (await heldOverlay.NextAsync()).Id.Should().Be(heldAlert);
    }

    [Fact]
    public async Task A_broadcaster_held_for_many_batches_does_not_stop_another_broadcasters_alerts()
    {
        var held = TwitchWebhook.NewBroadcasterId();
        var free = TwitchWebhook.NewBroadcasterId();
        await using var heldOverlay = await Factory.SubscribedOverlayAsync(held);
        await using var freeOverlay = await Factory.SubscribedOverlayAsync(free);

        var heldAlerts = new List<string>();
        using (await Sequencer.JoinTurnAsync(held, CancellationToken.None))
        {
            // One after another, each acknowledged before the next: each is a commit batch of its own, all waiting for the held turn.
            for (var i = 0; i < 100; i++)
            {
                heldAlerts.Add(await Factory.SendNotificationAsync(held));
            }

            var freeAlert = await Factory.SendNotificationAsync(free);

            (await freeOverlay.NextAsync()).Id.Should().Be(freeAlert);
            heldOverlay.All.Should().BeEmpty("the held broadcaster's events wait for its turn");
        }

        (await heldOverlay.WaitForAsync(heldAlerts.Count)).Select(e => e.Id).Should().Equal(heldAlerts);
    }

    [Fact]
    public async Task Joins_of_different_broadcasters_do_not_wait_for_each_other()
    {
        var held = TwitchWebhook.NewBroadcasterId();
        var other = TwitchWebhook.NewBroadcasterId();
        await using var waiting = await Factory.ConnectOverlayAsync(await Factory.CreateOverlayTokenAsync(held));

        Task<string[]> blocked;
        using (await Sequencer.JoinTurnAsync(held, CancellationToken.None))
        {
            blocked = waiting.SubscribeAsync("*");
            await using var joined = await Factory.SubscribedOverlayAsync(other);
            var alert = await Factory.SendNotificationAsync(other);

            (await joined.NextAsync()).Id.Should().Be(alert);
            blocked.IsCompleted.Should().BeFalse("the held broadcaster's join waits for its turn");
        }

        (await blocked.WaitAsync(TimeSpan.FromSeconds(10))).Should().Equal("*");
    }

    [Fact]
    public async Task Control_characters_in_types_are_refused_and_the_status_stays_readable()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.SubscribedOverlayAsync(broadcaster, "Follow");

        await overlay.Invoking(o => o.SubscribeAsync("\u0000")).Should().ThrowAsync<HubException>();
        await overlay.Invoking(o => o.SubscribeAsync("Fol\nlow")).Should().ThrowAsync<HubException>();
        await overlay.Invoking(o => o.Connection.InvokeAsync("Ack", "x\u0000y")).Should().ThrowAsync<HubException>();

        using var client = Factory.CreateRelayClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", overlay.Token);
        using var status = await client.GetAsync("/api/overlays/status");
        status.StatusCode.Should().Be(HttpStatusCode.OK);
        (await status.Content.ReadAsStringAsync()).Should().Contain("\"Follow\"").And.NotContain("\\u0000");
    }

    [Fact]
    public async Task A_refused_argument_is_logged_as_a_warning_without_a_stack_trace()
    {
        await using var overlay = await Factory.SubscribedOverlayAsync(TwitchWebhook.NewBroadcasterId());
        var marker = $"refused-{Guid.NewGuid():N}";

        await overlay.Invoking(o => o.Connection.InvokeAsync("Ack", marker + "\u0000" + new string('x', 5000))).Should().ThrowAsync<HubException>();

        var logged = Factory.Logs.Events.Where(e => e.Properties.TryGetValue("ConnectionId", out var id) && id.ToString().Trim('"') == overlay.Connection.ConnectionId).ToList();
        logged.Should().ContainSingle(e => e.Level == LogEventLevel.Warning && e.Exception == null);
        logged.Should().NotContain(e => e.Level >= LogEventLevel.Error);
        Factory.Logs.Events.Should().NotContain(e => e.Exception != null && e.Exception.Message.Contains(marker));
    }

    [Fact]
    public async Task A_connection_may_subscribe_to_at_most_two_hundred_types()
    {
        await using var overlay = await Factory.SubscribedOverlayAsync(TwitchWebhook.NewBroadcasterId(), "Follow");

        await overlay.SubscribeAsync([.. Enumerable.Range(1, 199).Select(i => $"Type{i}")]);

        await overlay.Invoking(o => o.SubscribeAsync("OneTooMany")).Should().ThrowAsync<HubException>().WithMessage("*at most 200*");
        (await overlay.SubscribeAsync("Follow", "Type1")).Should().Equal("Follow", "Type1");
    }
}
