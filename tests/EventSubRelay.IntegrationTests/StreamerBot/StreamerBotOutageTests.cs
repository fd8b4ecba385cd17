using System.Net;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests.StreamerBot;

/// <summary>Two relay processes sharing one PostgreSQL and a redis-server that is stopped and started again mid-stream.</summary>
public sealed class StreamerBotOutageTests : IAsyncLifetime
{
    private readonly TwoRelays _relays = new();

    private RelayProcess A => _relays.A;
    private RelayProcess B => _relays.B;

    public Task InitializeAsync() => _relays.InitializeAsync();

    public Task DisposeAsync() => _relays.DisposeAsync();

    [Fact]
    public async Task Every_event_acknowledged_while_Redis_is_stopped_mid_stream_reaches_a_widget_on_the_other_instance_once_in_order_without_reconnecting()
    {
        const int Total = 600, StopAt = 150;
        var outageLength = TimeSpan.FromSeconds(3);
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await RelayProcess.CreateOverlayTokenAsync(_relays.Environment, broadcaster);
        await using var onA = await ReadingWidget.ConnectAsync(A.BaseAddress, token);
        await using var onB = await ReadingWidget.ConnectAsync(B.BaseAddress, token);
        using var client = new HttpClient { BaseAddress = A.BaseAddress };

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var (acknowledged, refused) = await RedisOutageStream.SendAsync(client, broadcaster, Total, StopAt, _relays.Redis, outageLength, deadline.Token);
        // Once every acknowledged event has arrived (or the wait ran out), a marker sent after them shows whether anything came twice.
        await Task.WhenAll(onA.WaitForAllAsync(acknowledged, TimeSpan.FromSeconds(15)), onB.WaitForAllAsync(acknowledged, TimeSpan.FromSeconds(15)));
        var marker = TwitchWebhook.NewMessageId();
        (await RedisOutageStream.PostAsync(client, TwitchWebhook.NotificationBody(broadcaster), marker, deadline.Token)).Should().Be(HttpStatusCode.NoContent);
        await Task.WhenAll(onA.WaitForAllAsync([marker], TimeSpan.FromSeconds(15)), onB.WaitForAllAsync([marker], TimeSpan.FromSeconds(15)));
        var counts = new List<string>();
        foreach (var (name, widget) in new[] { ("A", onA), ("B", onB) })
        {
            var received = widget.Received.TakeWhile(id => id != marker).ToList();
            var missing = acknowledged.Except(received).Count();
            var repeated = received.Count - received.Distinct().Count();
            var ordered = received.Distinct().SequenceEqual(acknowledged.Where(received.Contains));
            counts.Add($"{name}: {missing} missing, {repeated} repeated, {(ordered ? "in order" : "out of order")}, {(widget.Closed ? "closed" : "open")}");
        }

        counts.Should().Equal(["A: 0 missing, 0 repeated, in order, open", "B: 0 missing, 0 repeated, in order, open"],
            $"a Streamer.bot socket gets each of the {Total} acknowledged events once, in order, on the socket it had ({refused} webhooks were answered 503 and retried; Redis was away {outageLength.TotalSeconds} s)");
    }

    [Fact]
    public async Task A_widget_that_joins_the_other_instance_while_Redis_is_stopped_gets_only_the_events_acknowledged_after_it_joined_once_in_order()
    {
        const int Before = 5, After = 5;
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await RelayProcess.CreateOverlayTokenAsync(_relays.Environment, broadcaster);
        await using var early = await ReadingWidget.ConnectAsync(B.BaseAddress, token);
        using var client = new HttpClient { BaseAddress = A.BaseAddress };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(40));

        await _relays.Redis.StopAsync();
        var before = await PostManyAsync(client, broadcaster, Before, deadline.Token);
        // Stored (delivery stores before it sends, and its sends wait for Redis), so the late widget joins above them.
        await Database.WaitForAsync(_relays.ConnectionString,
            $"SELECT count(*) = {Before} FROM overlay_events WHERE broadcaster_user_id = '{broadcaster}'", TimeSpan.FromSeconds(20));
        // A widget that wants only live events: nothing from before it joined may reach it.
        await using var late = await ReadingWidget.ConnectAsync(B.BaseAddress, token, "catchUp=false");
        var after = await PostManyAsync(client, broadcaster, After, deadline.Token);
        await _relays.Redis.StartAgainAsync();

        await Task.WhenAll(early.WaitForAllAsync([.. before, .. after], TimeSpan.FromSeconds(15)), late.WaitForAllAsync(after, TimeSpan.FromSeconds(15)));
        var marker = (await PostManyAsync(client, broadcaster, 1, deadline.Token))[0];
        await Task.WhenAll(early.WaitForAllAsync([marker], TimeSpan.FromSeconds(15)), late.WaitForAllAsync([marker], TimeSpan.FromSeconds(15)));
        string Describe(ReadingWidget widget, IReadOnlyList<string> expected)
        {
            var received = widget.Received.TakeWhile(id => id != marker).ToList();
            return $"{expected.Except(received).Count()} missing, {received.Count(before.Contains)} of those before the late join, "
                + $"{received.Count - received.Distinct().Count()} repeated, {(received.SequenceEqual(expected) ? "in order" : "out of order or more")}";
        }

        new[] { Describe(early, [.. before, .. after]), Describe(late, after) }.Should().Equal(
            [$"0 missing, {Before} of those before the late join, 0 repeated, in order", "0 missing, 0 of those before the late join, 0 repeated, in order"],
            "the widget there from the start gets every event, the one that joined meanwhile only those after it joined, each once and in order");
    }

    private static async Task<List<string>> PostManyAsync(HttpClient client, string broadcaster, int count, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = TwitchWebhook.NewMessageId();
            (await RedisOutageStream.PostAsync(client, TwitchWebhook.NotificationBody(broadcaster), id, cancellationToken)).Should().Be(HttpStatusCode.NoContent);
            ids.Add(id);
        }

        return ids;
    }

    /// <summary>A subscribed Streamer.bot socket whose event ids are read as they come, on the one socket (it never reconnects).</summary>
    private sealed class ReadingWidget : IAsyncDisposable
    {
        private readonly StreamerBotSocket _socket;
        private readonly Lock _lock = new();
        private readonly List<string> _received = [];
        private readonly Task _reading;
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private ReadingWidget(StreamerBotSocket socket)
        {
            _socket = socket;
            _reading = ReadAsync();
        }

        public bool Closed { get; private set; }

        public IReadOnlyList<string> Received
        {
            get
            {
                lock (_lock)
                {
                    return [.. _received];
                }
            }
        }

        public static async Task<ReadingWidget> ConnectAsync(Uri baseAddress, string token, string query = "")
        {
            var socket = await StreamerBotSocket.AuthenticatedAsync(baseAddress, token, query);
            await socket.SubscribeAsync("Follow");
            return new ReadingWidget(socket);
        }

        public async Task WaitForAllAsync(IReadOnlyCollection<string> ids, TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (Closed || ids.All(_received.Contains))
                    {
                        return;
                    }

                    changed = _changed.Task;
                }

                try
                {
                    await changed.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        private async Task ReadAsync()
        {
            try
            {
                // Queued events first, then the socket itself, with no time limit short enough to abort it mid-outage.
                while ((_socket.Unmatched.TryDequeue(out var queued) ? queued : (await StreamerBotSocket.ReceiveAsync(_socket.Socket, TimeSpan.FromMinutes(2)))?.AsObject()) is { } frame)
                {
                    if (frame["eventSubRelay"]?["id"]?.GetValue<string>() is { } id)
                    {
                        Changed(() => _received.Add(id));
                    }
                }

                Changed(() => Closed = true);
            }
            catch (Exception exception) when (exception is InvalidOperationException or System.Net.WebSockets.WebSocketException or OperationCanceledException)
            {
                Changed(() => Closed = true);
            }
        }

        private void Changed(Action change)
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                change();
                changed = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.SetResult();
        }

        public async ValueTask DisposeAsync()
        {
            await _socket.DisposeAsync();
            await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
