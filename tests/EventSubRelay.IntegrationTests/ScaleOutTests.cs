using System.Net;
using System.Net.Http.Json;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventSubRelay.IntegrationTests;

/// <summary>Two relay processes sharing one PostgreSQL and a Redis backplane.</summary>
public sealed class ScaleOutTests : IAsyncLifetime
{
    private RedisServer? _redis;
    private RelayProcess? _a;
    private RelayProcess? _b;
    private Dictionary<string, string> _environment = null!;

    private RelayProcess A => _a!;
    private RelayProcess B => _b!;

    public async Task InitializeAsync()
    {
        try
        {
            _redis = await RedisServer.StartAsync();
            var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
            _environment = RelayProcess.Environment(connectionString, new Dictionary<string, string> { ["SignalR__Redis"] = _redis.ConnectionString });
            _a = await RelayProcess.StartAsync(_environment);
            _b = await RelayProcess.StartAsync(_environment);
        }
        catch
        {
            // xunit does not dispose a fixture whose initialisation failed: leave no process behind.
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var relay in new[] { _a, _b })
        {
            if (relay is not null)
            {
                await relay.DisposeAsync();
            }
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task Webhook_delivered_to_one_instance_reaches_an_overlay_on_the_other_exactly_once()
    {
        var (broadcaster, token) = await NewChannelAsync();
        await using var onB = await SubscribedOverlay.ConnectAsync(B.BaseAddress, token);

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await SendAsync(A, broadcaster));
        }

        var marker = await SendAsync(A, broadcaster);

        (await onB.ReceivedBeforeAsync(marker)).Select(e => e.Id).Should().Equal(ids);
    }

    [Fact]
    public async Task Same_notification_delivered_to_both_instances_is_fanned_out_once()
    {
        var (broadcaster, token) = await NewChannelAsync();
        await using var onA = await SubscribedOverlay.ConnectAsync(A.BaseAddress, token);
        await using var onB = await SubscribedOverlay.ConnectAsync(B.BaseAddress, token);
        var body = TwitchWebhook.NotificationBody(broadcaster);
        var ids = Enumerable.Range(0, 10).Select(_ => TwitchWebhook.NewMessageId()).ToList();

        // Twitch retries can land on any instance, even at the same time as the original.
        using var toA = new HttpClient { BaseAddress = A.BaseAddress };
        using var toB = new HttpClient { BaseAddress = B.BaseAddress };
        var responses = await Task.WhenAll(ids.SelectMany(id => new[]
        {
            toA.SendAsync(TwitchWebhook.Request(body, messageId: id)),
            toB.SendAsync(TwitchWebhook.Request(body, messageId: id)),
        }));
        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.NoContent);
        await onA.WaitForAsync(ids.Count);
        await onB.WaitForAsync(ids.Count);

        // Each instance delivers in order, so once a marker from each has arrived, any duplicate would have too.
        var markers = new[] { await SendAsync(A, broadcaster), await SendAsync(B, broadcaster) };
        foreach (var overlay in new[] { onA, onB })
        {
            var received = await overlay.WaitForAsync(ids.Count + markers.Length);
            received.Select(e => e.Id).Should().BeEquivalentTo([.. ids, .. markers]).And.OnlyHaveUniqueItems();
        }
    }

    [Fact]
    public async Task An_overlay_that_reconnects_to_the_other_instance_gets_what_it_missed_exactly_once()
    {
        var (broadcaster, token) = await NewChannelAsync();
        await using var witness = await SubscribedOverlay.ConnectAsync(A.BaseAddress, token);
        long lastSeen;
        await using (var before = await SubscribedOverlay.ConnectAsync(B.BaseAddress, token))
        {
            var seen = await SendAsync(A, broadcaster);
            lastSeen = (await before.NextAsync()).Seq;
            (await witness.NextAsync()).Id.Should().Be(seen);
        }

        // Sent while the overlay was away, mostly by the instance it does not come back to.
        var missed = new List<string>();
        foreach (var relay in new[] { A, B, A, A })
        {
            missed.Add(await SendAsync(relay, broadcaster));
        }

        await witness.WaitForAsync(1 + missed.Count);
        await using var after = await SubscribedOverlay.ConnectAsync(B.BaseAddress, token, afterSeq: lastSeen);
        var live = await SendAsync(A, broadcaster);

        (await after.ReceivedBeforeAsync(live)).Select(e => e.Id).Should().Equal(missed);
    }

    [Fact]
    public async Task Events_sent_while_Redis_was_away_reach_overlays_once_it_is_back()
    {
        var (broadcaster, token) = await NewChannelAsync();
        await using var before = await SubscribedOverlay.ConnectAsync(B.BaseAddress, token);
        await SendAsync(A, broadcaster);
        var lastSeen = (await before.NextAsync()).Seq;
        var closed = new TaskCompletionSource();
        before.Connection.Closed += _ => Task.FromResult(closed.TrySetResult());

        await _redis!.StopAsync();
        // PostgreSQL is there, so the webhook is stored and acknowledged; sending it through Redis fails.
        var during = await SendAsync(A, broadcaster);
        await WaitForDeliveryFailureAsync(A);
        await _redis.StartAgainAsync();

        // Once B's subscription is back, B ends its overlay connections; the overlay reconnects and resumes.
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await using var after = await SubscribedOverlay.ConnectAsync(B.BaseAddress, token, afterSeq: lastSeen);
        var marker = await SendAsync(A, broadcaster);

        // A's retry of the failed send may land after the replay: overlays on several instances drop repeated ids.
        var received = await after.ReceivedBeforeAsync(marker, TimeSpan.FromSeconds(60));
        received.Select(e => e.Id).Distinct().Should().Equal(during);
    }

    [Fact]
    public async Task Status_through_either_instance_reports_connections_on_both()
    {
        var (broadcaster, token) = await NewChannelAsync();
        await using var onA = await OverlayClient.ConnectAsync(A.BaseAddress, token);
        await using var onB = await OverlayClient.ConnectAsync(B.BaseAddress, token);
        await onA.SubscribeAsync("*");
        await onB.SubscribeAsync("Follow");
        var follow = await SendAsync(A, broadcaster);
        await onB.NextAsync();
        await onB.Connection.InvokeAsync("Ack", follow);
        using var client = new HttpClient { BaseAddress = A.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);

        // Instances publish their connections every two seconds; ask until B's acknowledgement shows.
        OverlayStatus? status = null;
        for (var attempt = 0; attempt < 50 && status?.Connections.Any(c => c.LastAck?.Id == follow) != true; attempt++)
        {
            status = await client.GetFromJsonAsync<OverlayStatus>("/api/overlays/status");
            await Task.Delay(200);
        }

        status!.Connections.Should().HaveCount(2);
        var fromB = status.Connections.Single(c => c.LastAck is not null);
        fromB.SubscribedTypes.Should().Equal("Follow");
        fromB.LastEvent!.Id.Should().Be(follow);
        status.Connections.Single(c => c.LastAck is null).SubscribedTypes.Should().Equal("*");
    }

    private async Task<(string Broadcaster, string Token)> NewChannelAsync()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        return (broadcaster, await RelayProcess.CreateOverlayTokenAsync(_environment, broadcaster));
    }

    /// <summary>Waits until the relay reports a failed delivery step on <c>/metrics</c> (a separate process can only be polled).</summary>
    private static async Task WaitForDeliveryFailureAsync(RelayProcess relay)
    {
        using var client = new HttpClient { BaseAddress = relay.BaseAddress };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!System.Text.RegularExpressions.Regex.IsMatch(await client.GetStringAsync("/metrics", timeout.Token), @"^eventsubrelay_delivery_failures_total(\{[^}]*\})? [1-9]", System.Text.RegularExpressions.RegexOptions.Multiline))
        {
            await Task.Delay(200, timeout.Token);
        }
    }

    private static async Task<string> SendAsync(RelayProcess relay, string broadcaster)
    {
        using var client = new HttpClient { BaseAddress = relay.BaseAddress };
        var id = TwitchWebhook.NewMessageId();
        using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: id));
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        return id;
    }
}
