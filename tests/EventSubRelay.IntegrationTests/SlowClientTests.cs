using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using EventSubRelay.Events;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Xunit.Abstractions;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// An overlay that stops reading its socket holds a bounded buffer and is then dropped: it never holds up the
/// sends to anyone else, its own broadcaster's other overlays included, and it catches up when it comes back.
/// </summary>
public sealed class SlowClientTests(ITestOutputHelper output)
{
    private const int FloodWebhooks = 1_200;
    private const int FloodTestAlerts = 300;
    private const int OtherBroadcasterEvents = 20;

    /// <summary>
    /// What one of B's alerts may take from its acknowledgement to its overlay while A is flooded: tens of
    /// milliseconds measured; with A's stalled connection holding up delivery, SignalR's 10 s send timeout.
    /// </summary>
    private static readonly TimeSpan PromptDelivery = TimeSpan.FromSeconds(4);

    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task An_overlay_that_stops_reading_is_dropped_and_delays_no_other_overlay()
    {
        await using var relay = await RelayFactory.StartAsync(new Dictionary<string, string?>
        {
            // The catch-up below replays the whole flood.
            ["Overlay:ReplayMaxEvents"] = "10000",
            ["Overlay:TestAlertsPerMinute"] = "10000",
        });
        var a = TwitchWebhook.NewBroadcasterId();
        var b = TwitchWebhook.NewBroadcasterId();
        var tokenA = await relay.CreateOverlayTokenAsync(a);
        await using var stalled = await StalledOverlay.ConnectAsync(relay.BaseAddress, tokenA);
        await using var healthyA = await relay.ConnectSubscribedAsync(tokenA);
        await using var overlayB = await relay.SubscribedOverlayAsync(b);

        // A flood for A: large chat messages (which fill the stalled socket quickly) and test alerts.
        using var flood = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var webhooks = new HttpClient { BaseAddress = relay.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var alerts = new HttpClient { BaseAddress = relay.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        alerts.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokenA);
        var text = new string('x', 4_000);
        var floodIds = new string[FloodWebhooks];
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        var flooding = Task.WhenAll(
            Parallel.ForEachAsync(Enumerable.Range(0, FloodWebhooks), new ParallelOptions { MaxDegreeOfParallelism = 6, CancellationToken = flood.Token }, async (i, ct) =>
            {
                floodIds[i] = TwitchWebhook.NewMessageId();
                using var response = await webhooks.SendAsync(TwitchWebhook.Request(
                    TwitchWebhook.NotificationBody(a, "channel.chat.message", "1", TwitchWebhook.ChatEvent(a, $"{i} {text}")), messageId: floodIds[i]), ct);
                statuses.Add(response.StatusCode);
            }),
            Parallel.ForEachAsync(Enumerable.Range(0, FloodTestAlerts), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = flood.Token }, async (_, ct) =>
            {
                using var response = await alerts.PostAsJsonAsync("/api/test-alerts", new { type = "Follow" }, ct);
                statuses.Add(response.StatusCode);
            }));

        // Meanwhile B's alerts, one after the other, each timed from its acknowledgement to its overlay (ingest
        // shares the host with the flood; delivery is what a stalled connection would hold up).
        var latencies = new List<TimeSpan>();
        var endToEnd = new List<TimeSpan>();
        while (latencies.Count < OtherBroadcasterEvents || !flooding.IsCompleted)
        {
            var posted = Stopwatch.GetTimestamp();
            var id = await relay.SendNotificationAsync(b);
            var acknowledged = Stopwatch.GetTimestamp();
            OverlayEnvelope? received = null;
            try
            {
                received = await overlayB.NextAsync(LongestWait);
            }
            catch (OperationCanceledException)
            {
            }

            latencies.Add(Stopwatch.GetElapsedTime(acknowledged));
            endToEnd.Add(Stopwatch.GetElapsedTime(posted));
            if (received is null)
            {
                break;
            }

            received.Id.Should().Be(id);
        }

        var report = $"B's {latencies.Count} alerts, acknowledgement to overlay: max {latencies.Max().TotalMilliseconds:F0} ms, p50 {Median(latencies):F0} ms, "
            + $"{latencies.Count(l => l > PromptDelivery)} over {PromptDelivery.TotalSeconds} s; webhook to overlay: max {endToEnd.Max().TotalMilliseconds:F0} ms, p50 {Median(endToEnd):F0} ms";
        output.WriteLine(report);
        latencies.Should().OnlyContain(l => l < PromptDelivery, report);

        await flooding;
        statuses.Should().OnlyContain(s => s == HttpStatusCode.NoContent || s == HttpStatusCode.OK);
        var healthy = Stopwatch.StartNew();
        // Every chat message and test alert (the chatter's first message also makes a FirstWord event, which may come last).
        var healthyReceived = await healthyA.WaitForAsync(
            received => received.Count(e => e.Event.Type == "ChatMessage") >= FloodWebhooks && received.Count(e => e.IsTest) >= FloodTestAlerts,
            TimeSpan.FromSeconds(30));
        output.WriteLine($"A's healthy overlay had all {healthyReceived.Count} events {healthy.ElapsedMilliseconds} ms after the flood was acknowledged");
        (await stalled.WasDroppedAsync(quietFor: TimeSpan.FromSeconds(5))).Should().BeTrue("a connection that does not read is dropped once its buffer is full");

        // Back, it resumes from before the flood and gets every stored event it missed, in order.
        healthyReceived.Where(e => e.Event.Type == "ChatMessage").Select(e => e.Id).Should().BeEquivalentTo(floodIds, "A's other overlay got the whole flood");
        var firstSeq = healthyReceived.Where(e => !e.IsTest).Min(e => e.Seq);
        await using var resumed = await relay.ConnectOverlayAsync(tokenA);
        await resumed.Connection.InvokeAsync<EventSubRelay.Overlay.ResumeResult>("Resume", firstSeq - 1);
        await resumed.SubscribeAsync("*");
        var marker = await relay.SendNotificationAsync(a);
        var caughtUp = await resumed.ReceivedBeforeAsync(marker, TimeSpan.FromSeconds(30));
        var replayedChat = caughtUp.Where(e => e.Event.Type == "ChatMessage").ToList();
        replayedChat.Select(e => e.Id).Should().BeEquivalentTo(floodIds, "the replay brings every flood event once");
        caughtUp.Select(e => e.Seq).Should().BeInAscendingOrder();
    }

    private static double Median(List<TimeSpan> values) => values.Order().ElementAt(values.Count / 2).TotalMilliseconds;
}
