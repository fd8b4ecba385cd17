using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using EventSubRelay.Events;
using EventSubRelay.Overlay;

namespace EventSubRelay.StreamerBot;

/// <summary>
/// One Streamer.bot-protocol socket: the handshake, the requests, and a pump that sends the broadcaster's events
/// (queued by <see cref="StreamerBotSessions"/>) and, on subscription, the catch-up. Events and catch-ups go
/// through the same queue, so a catch-up's replay comes out before every live event queued after it.
/// </summary>
internal sealed class StreamerBotSession(
    WebSocket socket,
    StreamerBotServer server,
    bool catchUp,
    CancellationToken stopping) : IDisposable
{
    private readonly Channel<object> _queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly StreamerBotSubscriptions _requested = new();
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeReason = "";
    private int _queued;

    public StreamerBotIdentity? Identity { get; private set; }

    /// <summary>Queues an event of the broadcaster; a socket too slow to take its events is dropped (it catches up on reconnect).</summary>
    public void Offer(OverlayEnvelope envelope)
    {
        if (Interlocked.Increment(ref _queued) > server.Options.MaxQueuedEvents)
        {
            Close(WebSocketCloseStatus.PolicyViolation, "Too slow to receive events");
            return;
        }

        _queue.Writer.TryWrite(envelope);
    }

    /// <summary>Sends the client a close frame with this status, then ends the socket; returns at once.</summary>
    public void Close(WebSocketCloseStatus status, string reason) => _ = CloseFromServerAsync(status, reason);

    private async Task CloseFromServerAsync(WebSocketCloseStatus status, string reason)
    {
        (_closeStatus, _closeReason) = (status, reason);
        var sent = false;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _sending.WaitAsync(timeout.Token);
            try
            {
                await socket.CloseOutputAsync(status, reason, timeout.Token);
                sent = true;
            }
            finally
            {
                _sending.Release();
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Gone already, or too slow to take the close frame: it is ended below.
        }

        try
        {
            // The client's answering close ends the request loop; one that never answers is cut off.
            if (sent)
            {
                _closing.CancelAfter(TimeSpan.FromSeconds(2));
            }
            else
            {
                await _closing.CancelAsync();
            }
        }
        catch (ObjectDisposedException)
        {
            // The session has ended.
        }
    }

    public async Task RunAsync(string remoteAddress)
    {
        var challenge = StreamerBotAuthentication.NewChallenge();
        var cancellation = _closing.Token;
        Task pump = Task.CompletedTask;
        using var stop = stopping.Register(() => Close(WebSocketCloseStatus.EndpointUnavailable, "The relay is shutting down"));
        try
        {
            await SendAsync(StreamerBotFrames.Hello(server.Info, challenge, server.Time.GetUtcNow()), cancellation);
            if (!await AuthenticateAsync(challenge, remoteAddress, cancellation))
            {
                return;
            }

            await server.Sessions.AddAsync(this, cancellation);
            pump = PumpAsync(cancellation);
            await ServeRequestsAsync(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Closed by the relay (revoked, too slow, shutting down).
        }
        catch (WebSocketException)
        {
            // The client went away.
        }
        finally
        {
            server.Sessions.Remove(this);
            _queue.Writer.TryComplete();
            await _closing.CancelAsync();
            await pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await CloseSocketAsync();
        }
    }

    /// <summary>The error (and close reason, within its 123 bytes) for an invalid token from an address over the limit.</summary>
    public const string TooManyInvalidTokens = "Too many invalid overlay tokens from this address; try again in a minute";

    private async Task<bool> AuthenticateAsync(string challenge, string remoteAddress, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(server.Options.AuthenticateTimeoutSeconds));
        StreamerBotRequest? request;
        try
        {
            request = await ReceiveRequestAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            (_closeStatus, _closeReason) = (WebSocketCloseStatus.PolicyViolation, "Authentication timed out");
            return false;
        }

        if (request is not { Name: "Authenticate" })
        {
            // Enforce mode: anything but Authenticate first closes the socket.
            if (_closeReason.Length == 0)
            {
                (_closeStatus, _closeReason) = (WebSocketCloseStatus.PolicyViolation, "Authenticate first");
            }

            return false;
        }

        var answer = request.Body.TryGetProperty("authentication", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        var identity = await server.Authentication.VerifyAsync(challenge, answer, cancellation);
        if (identity is null)
        {
            // As on the hub: an address over the limit is told so (its attempt is not counted again); a valid token
            // from it was admitted above.
            var limited = server.InvalidTokens.IsBlocked(remoteAddress);
            if (!limited)
            {
                server.InvalidTokens.RecordFailure(remoteAddress);
            }

            var error = limited ? TooManyInvalidTokens : "Authentication failed";
            await SendAsync(StreamerBotFrames.Error(request.Id, error), cancellation);
            (_closeStatus, _closeReason) = (WebSocketCloseStatus.PolicyViolation, error);
            return false;
        }

        Identity = identity;
        await SendAsync(StreamerBotFrames.Ok(request.Id), cancellation);
        return true;
    }

    private async Task ServeRequestsAsync(CancellationToken cancellation)
    {
        while (true)
        {
            var request = await ReceiveRequestAsync(cancellation);
            if (request is null)
            {
                if (_closeReason.Length > 0 || socket.State != WebSocketState.Open)
                {
                    return;
                }

                continue;
            }

            await SendAsync(await AnswerAsync(request, cancellation), cancellation);
        }
    }

    private async Task<byte[]> AnswerAsync(StreamerBotRequest request, CancellationToken cancellation)
    {
        switch (request.Name)
        {
            case "Authenticate":
                return StreamerBotFrames.Ok(request.Id);
            case "GetInfo":
                return StreamerBotFrames.Info(request.Id, server.Info);
            case "GetEvents":
                return StreamerBotFrames.Events(request.Id, StreamerBotSubscriptions.Types);
            case "Subscribe":
            case "UnSubscribe":
                if (!StreamerBotSubscriptions.TryParse(request.Body, out var types))
                {
                    return StreamerBotFrames.Error(request.Id, "events must be an object such as {\"Twitch\": [\"Follow\"]}");
                }

                string[] now;
                if (request.Name == "Subscribe")
                {
                    var added = _requested.Add(types);
                    now = _requested.Current();
                    if (added.Length > 0)
                    {
                        _queue.Writer.TryWrite(new SubscriptionChange(added, Added: true));
                    }
                }
                else
                {
                    var removed = _requested.Remove(types);
                    now = _requested.Current();
                    _queue.Writer.TryWrite(new SubscriptionChange(removed, Added: false));
                }

                return StreamerBotFrames.Subscriptions(request.Id, now);
            case "GetBroadcaster":
                return StreamerBotFrames.Broadcaster(request.Id, Identity!.BroadcasterUserId, await server.BroadcasterAsync(Identity.BroadcasterUserId, cancellation));
            case "GetUserPronouns":
                var login = request.Body.TryGetProperty("userLogin", out var user) && user.ValueKind == JsonValueKind.String ? user.GetString() ?? "" : "";
                return StreamerBotFrames.Pronouns(request.Id, login);
            case { } name when StreamerBotFrames.ApplicationRequests.Contains(name):
                return StreamerBotFrames.Error(request.Id, $"{name} is not supported by EventSubRelay");
            case { Length: > 0 } name:
                return StreamerBotFrames.Error(request.Id, $"Unknown request {(name.Length > 100 ? name[..100] : name)}");
            default:
                return StreamerBotFrames.Error(request.Id, "Missing request");
        }
    }

    /// <summary>Reads one request; null for a message that is not one (answered here) or a close.</summary>
    private async Task<StreamerBotRequest?> ReceiveRequestAsync(CancellationToken cancellation)
    {
        var limit = server.Options.MaxMessageBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        try
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length > limit)
                {
                    (_closeStatus, _closeReason) = (WebSocketCloseStatus.MessageTooBig, $"Messages are limited to {limit} bytes");
                    return null;
                }

                result = await socket.ReceiveAsync(buffer.AsMemory(length, limit + 1 - length), cancellation);
                length += result.Count;
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _closeStatus = WebSocketCloseStatus.NormalClosure;
                    return null;
                }
            }
            while (!result.EndOfMessage || length > limit);

            if (result.MessageType != WebSocketMessageType.Text || !StreamerBotRequest.TryParse(buffer.AsSpan(0, length), out var request))
            {
                if (Identity is null)
                {
                    (_closeStatus, _closeReason) = (WebSocketCloseStatus.PolicyViolation, "Authenticate first");
                }
                else
                {
                    await SendAsync(StreamerBotFrames.Error(null, "Send one JSON object per text message"), cancellation);
                }

                return null;
            }

            return request;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task PumpAsync(CancellationToken cancellation)
    {
        var identity = Identity!;
        var sent = new RecentIds(4096);
        var active = new StreamerBotSubscriptions();
        var catchUpUntil = server.Time.GetUtcNow().AddSeconds(StreamerBotServer.CatchUpSeconds);
        long? cursor = null;
        var cursorRead = !catchUp;
        await foreach (var item in _queue.Reader.ReadAllAsync(cancellation))
        {
            switch (item)
            {
                case OverlayEnvelope envelope:
                    Interlocked.Decrement(ref _queued);
                    // Nothing before the first subscription: the catch-up brings what came before it.
                    if (active.IsEmpty || sent.Contains(envelope.Id))
                    {
                        break;
                    }

                    server.Cursors.Advance(identity.TokenId, envelope.Seq);
                    if (active.Covers(envelope.Event.Type))
                    {
                        await SendEventAsync(envelope, sent, cancellation);
                    }

                    break;
                case SubscriptionChange { Added: true } change:
                    var replay = active.Add(change.Types);
                    if (!cursorRead)
                    {
                        cursor = await server.Cursors.ReadAsync(identity.TokenId, cancellation);
                        cursorRead = true;
                    }

                    // Catch up the subscriptions a reconnecting widget makes (the library makes them at once).
                    if (cursor is { } after && replay.Length > 0 && server.Time.GetUtcNow() < catchUpUntil)
                    {
                        var (missed, _) = await server.Events.MissedAsync(identity.BroadcasterUserId, after, [.. replay.Select(t => (t, long.MaxValue))], server.ReplayLimits, cancellation);
                        foreach (var envelope in missed)
                        {
                            if (!sent.Contains(envelope.Id))
                            {
                                server.Cursors.Advance(identity.TokenId, envelope.Seq);
                                await SendEventAsync(envelope, sent, cancellation);
                            }
                        }
                    }

                    break;
                case SubscriptionChange change:
                    active.Remove(change.Types);
                    break;
            }
        }
    }

    private async Task SendEventAsync(OverlayEnvelope envelope, RecentIds sent, CancellationToken cancellation)
    {
        sent.Add(envelope.Id);
        await SendAsync(StreamerBotFrames.Event(envelope), cancellation);
    }

    private async Task SendAsync(byte[] frame, CancellationToken cancellation)
    {
        await _sending.WaitAsync(cancellation);
        try
        {
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellation);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// Ends the close handshake: sends the close frame unless sent, then waits briefly for the client's, so the
    /// frame is flushed before the connection ends (aborting would reset it and lose the frame).
    /// </summary>
    private async Task CloseSocketAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                // Not under the send lock: the pump has ended, and a close from the relay is bounded by its own timeout.
                await socket.CloseOutputAsync(_closeStatus, _closeReason, timeout.Token);
            }

            var buffer = new byte[1024];
            while (socket.State == WebSocketState.CloseSent)
            {
                await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or InvalidOperationException)
        {
            socket.Abort();
        }
    }

    public void Dispose()
    {
        _closing.Dispose();
        _sending.Dispose();
    }

    private sealed record SubscriptionChange(string[] Types, bool Added);

    /// <summary>The ids of the last events sent, so a catch-up and the live events after it never repeat one.</summary>
    private sealed class RecentIds(int capacity)
    {
        private readonly HashSet<string> _set = new(StringComparer.Ordinal);
        private readonly Queue<string> _order = new();

        public bool Contains(string id) => _set.Contains(id);

        public void Add(string id)
        {
            if (!_set.Add(id))
            {
                return;
            }

            _order.Enqueue(id);
            if (_order.Count > capacity)
            {
                _set.Remove(_order.Dequeue());
            }
        }
    }
}
