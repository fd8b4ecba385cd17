using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EventSubRelay.Benchmarks.Latency;

/// <summary>
/// A widget on the relay's Streamer.bot-protocol endpoint, as a raw WebSocket client speaking the protocol as the
/// official client does: read <c>Hello</c>, <c>Authenticate</c> with the overlay token as the password, then
/// <c>Subscribe</c> to every Twitch event; after that, every text frame with an <c>eventSubRelay.id</c> is a receipt.
/// </summary>
internal sealed class StreamerBotClient : IAsyncDisposable
{
    public const string Path = "/streamerbot";

    private readonly ClientWebSocket _socket;
    private readonly Task _receiving;
    private readonly Action<string> _received;
    private readonly byte[] _buffer = new byte[16 * 1024];

    private StreamerBotClient(ClientWebSocket socket, Action<string> received)
    {
        _socket = socket;
        _received = received;
        _receiving = ReceiveEventsAsync();
    }

    /// <summary>Connects, authenticates and subscribes to <c>"*"</c>; <paramref name="received"/> gets each event's relay id.</summary>
    public static async Task<StreamerBotClient> ConnectAsync(Uri relay, string token, Action<string> received)
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new UriBuilder(relay) { Scheme = "ws", Path = Path }.Uri, timeout.Token);
        using (var hello = await ReceiveAsync(socket, new byte[16 * 1024], timeout.Token))
        {
            var authentication = hello.RootElement.GetProperty("authentication");
            // The client's computation (obs-websocket's): base64(SHA-256(base64(SHA-256(password + salt)) + challenge)).
            var secret = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token + authentication.GetProperty("salt").GetString())));
            var answer = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret + authentication.GetProperty("challenge").GetString())));
            await RequestAsync(socket, $$"""{"request":"Authenticate","id":"auth","authentication":"{{answer}}"}""", "auth", timeout.Token);
        }

        await RequestAsync(socket, """{"request":"Subscribe","id":"subscribe","events":{"Twitch":["*"]}}""", "subscribe", timeout.Token);
        return new StreamerBotClient(socket, received);
    }

    private static async Task RequestAsync(ClientWebSocket socket, string request, string id, CancellationToken cancellationToken)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        while (true)
        {
            using var message = await ReceiveAsync(socket, new byte[16 * 1024], cancellationToken);
            if (message.RootElement.TryGetProperty("id", out var answered) && answered.ValueKind == JsonValueKind.String && answered.GetString() == id)
            {
                var status = message.RootElement.GetProperty("status").GetString();
                if (status != "ok")
                {
                    throw new InvalidOperationException($"{id} was answered {message.RootElement}");
                }

                return;
            }
        }
    }

    private async Task ReceiveEventsAsync()
    {
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                using var message = await ReceiveAsync(_socket, _buffer, CancellationToken.None);
                if (message.RootElement.TryGetProperty("eventSubRelay", out var relay) && relay.TryGetProperty("id", out var id))
                {
                    _received(id.GetString()!);
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
        {
            // Closed by DisposeAsync or by the relay.
        }
    }

    /// <summary>One whole text message.</summary>
    private static async Task<JsonDocument> ReceiveAsync(ClientWebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new EndOfStreamException("The relay closed the socket.");
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length));
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
                // The relay has gone.
            }
        }

        _socket.Abort();
        await _receiving;
        _socket.Dispose();
    }
}
