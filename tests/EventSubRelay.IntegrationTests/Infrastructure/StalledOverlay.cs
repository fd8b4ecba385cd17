using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using EventSubRelay.Overlay;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>
/// A hostile overlay: a raw WebSocket that does the SignalR JSON handshake by hand, subscribes to everything, and
/// from then on never reads its socket, with a small receive buffer so TCP backs up at once. It keeps pinging,
/// so the hub never takes it for a dead client.
/// </summary>
public sealed class StalledOverlay : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';

    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker _invoker;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pinging;

    private StalledOverlay(ClientWebSocket socket, HttpMessageInvoker invoker)
    {
        (_socket, _invoker) = (socket, invoker);
        _pinging = PingAsync();
    }

    public static async Task<StalledOverlay> ConnectAsync(Uri baseAddress, string token)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                // Set before connecting, so the window the client advertises stays small.
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var invoker = new HttpMessageInvoker(handler);
        var socket = new ClientWebSocket { Options = { KeepAliveInterval = TimeSpan.Zero } };
        var uri = new UriBuilder(new Uri(baseAddress, OverlayExtensions.HubPath)) { Scheme = "ws", Query = $"access_token={Uri.EscapeDataString(token)}" }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(uri, invoker, timeout.Token);
        var overlay = new StalledOverlay(socket, invoker);
        await overlay.SendAsync("""{"protocol":"json","version":1}""", timeout.Token);
        (await overlay.ReceiveRecordAsync(timeout.Token)).Should().Be("{}", "the handshake succeeds");
        await overlay.SendAsync("""{"type":1,"invocationId":"1","target":"Subscribe","arguments":[["*"]]}""", timeout.Token);
        string record;
        do
        {
            record = await overlay.ReceiveRecordAsync(timeout.Token);
        }
        while (!record.Contains("\"type\":3", StringComparison.Ordinal));

        record.Should().Contain("\"result\":[\"*\"]", "the subscription is accepted");
        return overlay;
    }

    /// <summary>
    /// Starts reading again and reads what the relay left in the socket; true when the relay closed the
    /// connection, false when it is still open once everything buffered was read (nothing more within the timeout).
    /// </summary>
    public async Task<bool> WasDroppedAsync(TimeSpan quietFor)
    {
        await _stop.CancelAsync();
        await _pinging;
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var quiet = new CancellationTokenSource(quietFor);
            try
            {
                var result = await _socket.ReceiveAsync(buffer, quiet.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return true;
                }
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            catch (WebSocketException)
            {
                return true;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pinging;
        _socket.Abort();
        _socket.Dispose();
        _invoker.Dispose();
        _stop.Dispose();
    }

    private Task SendAsync(string message, CancellationToken cancellationToken) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(message + RecordSeparator), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private async Task<string> ReceiveRecordAsync(CancellationToken cancellationToken)
    {
        // Handshake-time messages are small and come one per frame.
        var buffer = new byte[4096];
        var text = new StringBuilder();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, cancellationToken);
            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
        while (!result.EndOfMessage);

        return text.ToString().TrimEnd(RecordSeparator);
    }

    private async Task PingAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await SendAsync("""{"type":6}""", _stop.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // Stopped, or the relay closed the connection.
        }
    }
}
