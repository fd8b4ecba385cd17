using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.StreamerBot;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests.StreamerBot;

public sealed class StreamerBotKeepAliveFixture : RelayFixture
{
    public const int KeepAliveSeconds = 1;

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["StreamerBot:KeepAliveSeconds"] = $"{KeepAliveSeconds}" };
}

public sealed class StreamerBotKeepAliveTests(StreamerBotKeepAliveFixture relay) : IClassFixture<StreamerBotKeepAliveFixture>
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(StreamerBotKeepAliveFixture.KeepAliveSeconds);

    private RelayFactory Factory => relay.Factory;

    [Fact]
    public async Task An_idle_widget_behind_a_proxy_that_cuts_silent_connections_stays_connected()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        // A proxy that ends a connection after three keep-alive intervals without a byte either way, as nginx's
        // proxy_read_timeout or a cloud load balancer's idle timeout does (60 s by default there).
        await using var proxy = IdleTimeoutProxy.Start(Factory.BaseAddress.Port, 3 * KeepAlive);
        await using var widget = await StreamerBotSocket.AuthenticatedAsync(new Uri($"http://127.0.0.1:{proxy.Port}"), token);
        await widget.SubscribeAsync("Follow");

        // The widget only listens, as a browser source does; its own pings are off, so only the relay's keep the line busy.
        var listening = StreamerBotSocket.ReceiveAsync(widget.Socket, TimeSpan.FromSeconds(30));
        var idle = 7 * KeepAlive;
        await Task.Delay(idle);
        proxy.CutConnections.Should().Be(0, "the relay's pings must cross the proxy more often than its idle timeout");
        listening.IsCompleted.Should().BeFalse();

        var follow = await Factory.SendNotificationAsync(broadcaster);
        var frame = (await listening)!.AsObject();
        frame["eventSubRelay"]!["id"]!.GetValue<string>().Should().Be(follow);
        proxy.BytesFromRelayWhileIdle.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task A_widget_that_never_answers_pings_is_dropped_within_two_keep_alive_intervals_and_slack()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        var sessions = Factory.Services.GetRequiredService<StreamerBotSessions>();
        var dead = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token);
        try
        {
            await dead.SubscribeAsync("Follow");
            SessionsOf(sessions, broadcaster).Should().Be(1);

            // From here the client reads nothing, so its WebSocket never sees the relay's pings and never answers them
            // (the kernel still acknowledges the TCP segments: only the WebSocket keep-alive can tell).
            var watch = Stopwatch.StartNew();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (SessionsOf(sessions, broadcaster) > 0)
            {
                // The registry offers nothing to await; look every 50 ms.
                await Task.Delay(50, timeout.Token);
            }

            watch.Elapsed.Should().BeLessThan(2 * KeepAlive + TimeSpan.FromSeconds(3), "a ping every interval, dropped when the pong is an interval late");
        }
        finally
        {
            dead.Socket.Dispose();
        }
    }

    private static int SessionsOf(StreamerBotSessions sessions, string broadcaster) =>
        sessions.All.Count(s => s.Identity?.BroadcasterUserId == broadcaster);

    /// <summary>A TCP proxy on loopback that cuts a connection through it after <c>idleTimeout</c> without a byte in either direction.</summary>
    private sealed class IdleTimeoutProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly int _target;
        private readonly TimeSpan _idleTimeout;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _cut;
        private long _fromRelay;

        private IdleTimeoutProxy(int target, TimeSpan idleTimeout)
        {
            _target = target;
            _idleTimeout = idleTimeout;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int CutConnections => Volatile.Read(ref _cut);

        /// <summary>Bytes the relay sent through the proxy after the first idle timeout's worth of time on a connection.</summary>
        public long BytesFromRelayWhileIdle => Interlocked.Read(ref _fromRelay);

        public static IdleTimeoutProxy Start(int target, TimeSpan idleTimeout) => new(target, idleTimeout);

        private async Task AcceptAsync()
        {
            var connections = new List<Task>();
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    connections.Add(ForwardAsync(client));
                }
            }
            catch (OperationCanceledException)
            {
                await Task.WhenAll(connections);
            }
        }

        private async Task ForwardAsync(TcpClient client)
        {
            using var _ = client;
            using var relay = new TcpClient();
            await relay.ConnectAsync(IPAddress.Loopback, _target);
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var lastActivity = new StrongBox<long>(Environment.TickCount64);
            var opened = Stopwatch.StartNew();
            var up = CopyAsync(client.GetStream(), relay.GetStream(), lastActivity, fromRelay: false, opened, connection.Token);
            var down = CopyAsync(relay.GetStream(), client.GetStream(), lastActivity, fromRelay: true, opened, connection.Token);
            try
            {
                while (!connection.IsCancellationRequested && !up.IsCompleted && !down.IsCompleted)
                {
                    await Task.Delay(100, connection.Token);
                    if (Environment.TickCount64 - Volatile.Read(ref lastActivity.Value) > _idleTimeout.TotalMilliseconds)
                    {
                        Interlocked.Increment(ref _cut);
                        break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Proxy stopped.
            }

            await connection.CancelAsync();
            client.Close();
            relay.Close();
            await Task.WhenAll(up, down).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task CopyAsync(NetworkStream from, NetworkStream to, StrongBox<long> lastActivity, bool fromRelay, Stopwatch opened, CancellationToken cancellation)
        {
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await from.ReadAsync(buffer, cancellation);
                if (read == 0)
                {
                    return;
                }

                Volatile.Write(ref lastActivity.Value, Environment.TickCount64);

                if (fromRelay && opened.Elapsed > _idleTimeout)
                {
                    Interlocked.Add(ref _fromRelay, read);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellation);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }
}
