using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventSubRelay.Benchmarks.Scale;

/// <summary>
/// One overlay of the scale benchmark: an official .NET SignalR client on WebSockets that can be dropped without a
/// close handshake (its socket aborted, as a network blip would) and reconnected in its place, remembering across
/// connections the last sequence number it saw and every event it received.
/// </summary>
internal sealed class OverlaySlot(int index, int broadcaster, string token)
{
    private readonly Lock _lock = new();
    private readonly HashSet<SentEvent> _received = [];
    private HubConnection? _connection;
    private ClientWebSocket? _socket;
    private long _lastSeq;

    public int Index => index;
    public int Broadcaster => broadcaster;

    /// <summary>Receipts of an event this slot had already received (over all its connections).</summary>
    public int Duplicates { get; private set; }

    /// <summary>Receipts of another broadcaster's event.</summary>
    public int Foreign { get; private set; }

    /// <summary>Failed attempts to connect and subscribe (each retried after a second).</summary>
    public int Retries { get; private set; }

    /// <summary>When (stopwatch ticks) the last connection's subscription completed.</summary>
    public long SubscribedAt { get; private set; }

    /// <summary>Called for every receipt of an event this run sent, with the receipt's stopwatch timestamp.</summary>
    public Action<SentEvent, long>? Received { get; set; }

    public long LastSeq
    {
        get { lock (_lock) { return _lastSeq; } }
    }

    public bool HasReceived(SentEvent sent)
    {
        lock (_lock)
        {
            return _received.Contains(sent);
        }
    }

    /// <summary>
    /// Connects (the relay: <c>?afterSeq=</c> when given, then <c>Subscribe(["*"])</c>; the baseline joins on connect),
    /// retrying every second until <paramref name="deadline"/>; false when it never succeeded.
    /// </summary>
    public async Task<bool> ConnectAsync(ScaleTarget target, long? afterSeq, IReadOnlyDictionary<string, SentEvent> sent, long deadline)
    {
        while (true)
        {
            var connection = Build(target.Url(token, afterSeq), sent);
            try
            {
                await connection.StartAsync();
                if (target.Subscribes)
                {
                    await connection.InvokeAsync<string[]>("Subscribe", new[] { "*" });
                }

                _connection = connection;
                SubscribedAt = Stopwatch.GetTimestamp();
                return true;
            }
            catch (Exception exception) when (exception is HttpRequestException or WebSocketException or IOException or TimeoutException or OperationCanceledException or InvalidOperationException or HubException)
            {
                Retries++;
                await connection.DisposeAsync();
                if (Stopwatch.GetTimestamp() + Stopwatch.Frequency > deadline)
                {
                    return false;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(250)));
            }
        }
    }

    /// <summary>Drops the connection at once: its socket is aborted, without a WebSocket or SignalR close.</summary>
    public void Drop() => _socket?.Abort();

    /// <summary>
    /// After <see cref="Drop"/>: waits for the old connection to end (so no late receipt moves the last sequence
    /// number), then connects again resuming after the last sequence number it saw.
    /// </summary>
    public async Task<bool> ResumeAsync(ScaleTarget target, IReadOnlyDictionary<string, SentEvent> sent, long deadline)
    {
        if (_connection is { } old)
        {
            await old.DisposeAsync();
        }

        return await ConnectAsync(target, target.Subscribes ? LastSeq : null, sent, deadline);
    }

    public async Task CloseAsync()
    {
        if (_connection is { } connection)
        {
            await connection.DisposeAsync();
        }
    }

    private HubConnection Build(Uri url, IReadOnlyDictionary<string, SentEvent> sent)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(url, options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.SkipNegotiation = true;
                // Our own socket, so that Drop can abort it.
                options.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var socket = new ClientWebSocket();
                    await socket.ConnectAsync(context.Uri, cancellationToken);
                    _socket = socket;
                    return socket;
                };
            })
            .Build();
        connection.On<Receipt>(Overlay.OverlayClientMethods.Event, receipt => OnReceipt(receipt, sent));
        return connection;
    }

    private void OnReceipt(Receipt receipt, IReadOnlyDictionary<string, SentEvent> sent)
    {
        var at = Stopwatch.GetTimestamp();
        if (!sent.TryGetValue(receipt.Id, out var sentEvent))
        {
            return; // Sent before this phase (e.g. by an earlier phase against the same server).
        }

        lock (_lock)
        {
            _lastSeq = Math.Max(_lastSeq, receipt.Seq);
            if (sentEvent.Broadcaster != broadcaster)
            {
                Foreign++;
            }

            if (!_received.Add(sentEvent))
            {
                Duplicates++;
                return;
            }
        }

        Received?.Invoke(sentEvent, at);
    }

    /// <summary>What the benchmark reads of an envelope; the rest of it is not deserialized.</summary>
    private sealed record Receipt(string Id, long Seq);
}

/// <summary>Where overlays of one phase connect: the relay's hub, or the SignalR-only server's.</summary>
internal sealed record ScaleTarget(string Name, Uri HubUrl, bool Subscribes)
{
    public Uri Url(string token, long? afterSeq)
    {
        var ws = new UriBuilder(HubUrl) { Scheme = "ws" };
        ws.Query = Subscribes
            ? $"access_token={Uri.EscapeDataString(token)}" + (afterSeq is { } after ? $"&afterSeq={after}" : "")
            : $"broadcaster={Uri.EscapeDataString(token)}";
        return ws.Uri;
    }
}

/// <summary>One webhook the benchmark sent: to whom, when, whether it was acknowledged, and in which part of the phase.</summary>
internal sealed class SentEvent(int broadcaster, long sentAt, bool measured, bool duringStorm)
{
    public int Broadcaster => broadcaster;
    public long SentAt => sentAt;

    /// <summary>Sent in the steady window whose latency is reported.</summary>
    public bool Measured => measured;

    /// <summary>Sent between the drop of every connection and the last one's new subscription.</summary>
    public bool DuringStorm => duringStorm;

    /// <summary>Answered <c>204</c> (the relay stored it, so every subscribed overlay must get it).</summary>
    public volatile bool Acknowledged;
}
