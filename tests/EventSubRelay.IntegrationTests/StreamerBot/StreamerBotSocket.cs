using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventSubRelay.IntegrationTests.StreamerBot;

/// <summary>A raw WebSocket client speaking the Streamer.bot protocol as its official client does, frame by frame.</summary>
public sealed class StreamerBotSocket : IAsyncDisposable
{
    private StreamerBotSocket(ClientWebSocket socket, JsonObject hello)
    {
        Socket = socket;
        Hello = hello;
    }

    public ClientWebSocket Socket { get; }

    public JsonObject Hello { get; }

    /// <summary>Connects to <c>/streamerbot</c> (plus <paramref name="query"/>) and reads the Hello.</summary>
    public static async Task<StreamerBotSocket> ConnectAsync(Uri baseAddress, string query = "")
    {
        // A browser sends no pings of its own, and neither does this client: only the relay's keep a line busy.
        var socket = new ClientWebSocket { Options = { KeepAliveInterval = TimeSpan.Zero } };
        var url = new UriBuilder(baseAddress) { Scheme = "ws", Path = "/streamerbot", Query = query }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(url, timeout.Token);
        var hello = (await ReceiveAsync(socket))!.AsObject();
        return new StreamerBotSocket(socket, hello);
    }

    /// <summary>Connects and authenticates with <paramref name="token"/> as the password; throws unless the relay says ok.</summary>
    public static async Task<StreamerBotSocket> AuthenticatedAsync(Uri baseAddress, string token, string query = "")
    {
        var client = await ConnectAsync(baseAddress, query);
        var answer = await client.RequestAsync("Authenticate", new JsonObject { ["authentication"] = client.AuthenticationFor(token) });
        answer["status"]!.GetValue<string>().Should().Be("ok");
        return client;
    }

    /// <summary>The client's computation (obs-websocket's): base64(SHA-256(base64(SHA-256(password + salt)) + challenge)).</summary>
    public string AuthenticationFor(string password)
    {
        var salt = Hello["authentication"]!["salt"]!.GetValue<string>();
        var challenge = Hello["authentication"]!["challenge"]!.GetValue<string>();
        var secret = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(password + salt)));
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret + challenge)));
    }

    private int _requests;

    /// <summary>Sends a request with a client-style id and returns the message that carries that id.</summary>
    public async Task<JsonObject> RequestAsync(string name, JsonObject? fields = null)
    {
        var id = $"sb:client:req:{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-{Interlocked.Increment(ref _requests)}";
        var request = new JsonObject { ["request"] = name, ["id"] = id };
        foreach (var (key, value) in fields ?? [])
        {
            request[key] = value?.DeepClone();
        }

        await SendTextAsync(request.ToJsonString());
        while (true)
        {
            var message = (await ReceiveAsync(Socket))!.AsObject();
            if (message["id"]?.GetValue<string>() == id)
            {
                return message;
            }

            Unmatched.Enqueue(message);
        }
    }

    /// <summary>Messages read while waiting for a response (events in between).</summary>
    public Queue<JsonObject> Unmatched { get; } = new();

    public Task<JsonObject> SubscribeAsync(params string[] types) =>
        RequestAsync("Subscribe", new JsonObject { ["events"] = new JsonObject { ["Twitch"] = new JsonArray([.. types.Select(t => JsonValue.Create(t))]) } });

    public Task SendTextAsync(string text) => Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next message (events first from <see cref="Unmatched"/>).</summary>
    public async Task<JsonObject> NextAsync()
    {
        if (Unmatched.TryDequeue(out var queued))
        {
            return queued;
        }

        return (await ReceiveAsync(Socket))?.AsObject() ?? throw new InvalidOperationException($"Closed: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
    }

    /// <summary>The next event frame whose relay id is <paramref name="id"/>, with every event frame before it.</summary>
    public async Task<IReadOnlyList<JsonObject>> EventsUntilAsync(string id)
    {
        var frames = new List<JsonObject>();
        while (true)
        {
            var frame = await NextAsync();
            frames.Add(frame);
            if (frame["eventSubRelay"]?["id"]?.GetValue<string>() == id)
            {
                return frames;
            }
        }
    }

    /// <summary>Reads until the relay closes the socket; returns the close status.</summary>
    public async Task<WebSocketCloseStatus?> ClosedAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return result.CloseStatus;
                }
            }
        }
        catch (WebSocketException)
        {
            return Socket.CloseStatus;
        }
    }

    /// <summary>One whole text message as JSON, or null at a close.</summary>
    public static async Task<JsonNode?> ReceiveAsync(WebSocket socket, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            result.MessageType.Should().Be(WebSocketMessageType.Text);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return JsonNode.Parse(message.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
                // The relay has gone.
            }
        }

        Socket.Dispose();
    }
}
