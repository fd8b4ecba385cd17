using System.Net;
using System.Net.Http.Json;
using EventSubRelay.Events;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventSubRelay.IntegrationTests;

/// <summary>Two relay processes sharing one PostgreSQL and a Redis backplane.</summary>
public sealed class ScaleOutTests : IAsyncLifetime
{
    private readonly TwoRelays _relays = new();

    private RelayProcess A => _relays.A;
    private RelayProcess B => _relays.B;

    public Task InitializeAsync() => _relays.InitializeAsync();

    public Task DisposeAsync() => _relays.DisposeAsync();

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
    public async Task Events_sent_while_Redis_was_away_reach_an_overlay_on_the_other_instance_once_it_is_back_without_a_reconnect()
    {
        var (broadcaster, token) = await NewChannelAsync();
        await using var overlay = await SubscribedOverlay.ConnectAsync(B.BaseAddress, token);
        var before = await SendAsync(A, broadcaster);
        (await overlay.NextAsync()).Id.Should().Be(before);
        var closed = false;
        overlay.Connection.Closed += _ => Task.FromResult(closed = true);

        await _relays.Redis.StopAsync();
        // PostgreSQL is there, so the webhook is stored and acknowledged; publishing it to the other instance fails.
        var during = await SendAsync(A, broadcaster);
        await WaitForDeliveryFailureAsync(A);
        await _relays.Redis.StartAgainAsync();

        // B catches its overlays up from PostgreSQL once its subscription is back; A's retried publish is skipped.
        var marker = await SendAsync(A, broadcaster);
        var received = await overlay.ReceivedBeforeAsync(marker, TimeSpan.FromSeconds(60));
        received.Select(e => e.Id).Should().Equal(before, during);
        closed.Should().BeFalse();
    }

    [Fact]
    public async Task Every_event_acknowledged_while_Redis_is_stopped_mid_stream_reaches_every_overlay_once_and_in_order()
    {
        const int Total = 1500, StopAt = 400;
        var outageLength = TimeSpan.FromSeconds(5);
        var (broadcaster, token) = await NewChannelAsync();
        await using var onA = await ResumingOverlay.ConnectAsync(A.BaseAddress, token);
        await using var onB = await ResumingOverlay.ConnectAsync(B.BaseAddress, token);
        using var client = new HttpClient { BaseAddress = A.BaseAddress };

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (acknowledged, refused) = await RedisOutageStream.SendAsync(client, broadcaster, Total, StopAt, _relays.Redis, outageLength, deadline.Token);
        // Once every acknowledged event has arrived (or the wait ran out), a marker sent after them shows whether anything came twice.
        await Task.WhenAll(onA.WaitForAllAsync(acknowledged, TimeSpan.FromSeconds(30)), onB.WaitForAllAsync(acknowledged, TimeSpan.FromSeconds(30)));
        var marker = await SendAsync(A, broadcaster);
        await Task.WhenAll(onA.WaitForAllAsync([marker], TimeSpan.FromSeconds(30)), onB.WaitForAllAsync([marker], TimeSpan.FromSeconds(30)));
        var counts = new List<string>();
        foreach (var (name, overlay) in new[] { ("A", onA), ("B", onB) })
        {
            var received = overlay.Received.TakeWhile(id => id != marker).ToList();
            var missing = acknowledged.Except(received).Count();
            var repeated = received.Count - received.Distinct().Count();
            var ordered = received.Distinct().SequenceEqual(acknowledged.Where(received.Contains));
            counts.Add($"{name}: {missing} missing, {repeated} repeated, {(ordered ? "in order" : "out of order")}, {overlay.Reconnects} reconnects");
        }

        counts.Should().Equal(["A: 0 missing, 0 repeated, in order, 0 reconnects", "B: 0 missing, 0 repeated, in order, 0 reconnects"],
            $"every overlay gets each of the {Total} acknowledged events once, in order ({refused} webhooks were answered 503 and retried; Redis was away {outageLength.TotalSeconds} s)");
        B.Output.Split('\n').Should().Contain(line => line.Contains("Caught up the overlays", StringComparison.Ordinal) && line.Contains(broadcaster, StringComparison.Ordinal),
            "the outage kept events from B that it then read from PostgreSQL");
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
        return (broadcaster, await RelayProcess.CreateOverlayTokenAsync(_relays.Environment, broadcaster));
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

/// <summary>
/// An overlay as docs/overlay-api.md writes one, without its duplicate filter: it counts everything that arrives,
/// and when its connection is closed it connects again and resumes after the highest sequence number it has seen.
/// </summary>
internal sealed class ResumingOverlay : IAsyncDisposable
{
    private readonly Uri _relay;
    private readonly string _token;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _received = new();
    private readonly CancellationTokenSource _disposed = new();
    private long _lastSeq;
    private OverlayClient _current = null!;
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ResumingOverlay(Uri relay, string token) => (_relay, _token) = (relay, token);

    /// <summary>The ids received on every connection so far, in order, repeats included.</summary>
    public IReadOnlyList<string> Received => [.. _received];

    public int Reconnects { get; private set; }

    public static async Task<ResumingOverlay> ConnectAsync(Uri relay, string token)
    {
        var overlay = new ResumingOverlay(relay, token);
        await overlay.ConnectAsync(afterSeq: null);
        return overlay;
    }

    /// <summary>Waits until every one of <paramref name="ids"/> has arrived, or until <paramref name="timeout"/> has passed.</summary>
    public async Task WaitForAllAsync(IReadOnlyCollection<string> ids, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!deadline.IsCancellationRequested)
        {
            var arrived = Volatile.Read(ref _arrived).Task;
            if (!ids.Except(_received).Any())
            {
                return;
            }

            await arrived.WaitAsync(deadline.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        await _current.DisposeAsync();
        _disposed.Dispose();
    }

    private async Task ConnectAsync(long? afterSeq)
    {
        var client = await OverlayClient.ConnectAsync(_relay, _token, afterSeq);
        client.Connection.On<OverlayEnvelope>(OverlayClientMethods.Event, envelope =>
        {
            _received.Enqueue(envelope.Id);
            InterlockedMax(ref _lastSeq, envelope.Seq);
            Interlocked.Exchange(ref _arrived, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        });
        _current = client;
        await client.SubscribeAsync("*");
        client.Connection.Closed += async _ =>
        {
            while (!_disposed.IsCancellationRequested)
            {
                try
                {
                    Reconnects++;
                    await ConnectAsync(Interlocked.Read(ref _lastSeq));
                    return;
                }
                catch (Exception) when (!_disposed.IsCancellationRequested)
                {
                    await Task.Delay(200, _disposed.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        };
    }

    private static void InterlockedMax(ref long target, long value)
    {
        for (var current = Interlocked.Read(ref target); value > current; current = Interlocked.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, current) == current)
            {
                return;
            }
        }
    }
}
