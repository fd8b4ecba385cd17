using System.Collections.Concurrent;
using System.Text.Json;
using EventSubRelay.Events;
using EventSubRelay.Overlay;
using StackExchange.Redis;

namespace EventSubRelay.StreamerBot;

/// <summary>
/// The authenticated Streamer.bot sockets of this instance, by broadcaster. It hears every envelope the fan-out
/// sends and hands it to the broadcaster's sockets' queues without waiting. With several instances (the Redis
/// backplane configured) it also publishes each envelope on a Redis channel and offers the other instances'
/// envelopes to its own sockets, since the fan-out reaches only its own instance's listeners.
/// </summary>
internal sealed class StreamerBotSessions : IOverlayEnvelopeListener, IAsyncDisposable
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("eventsubrelay:streamerbot:envelopes");
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<StreamerBotSession, byte>> _byBroadcaster = new(StringComparer.Ordinal);
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly Task<ConnectionMultiplexer>? _redis;
    private readonly ILogger<StreamerBotSessions> _logger;

    public StreamerBotSessions(IConfiguration configuration, ILogger<StreamerBotSessions> logger)
    {
        _logger = logger;
        if (configuration["SignalR:Redis"] is { Length: > 0 } redis)
        {
            _redis = ConnectAsync(redis);
        }
    }

    /// <summary>Completes once this instance hears the other instances' envelopes (at once without Redis).</summary>
    public Task Ready => _redis ?? Task.CompletedTask;

    public void Add(StreamerBotSession session) =>
        _byBroadcaster.GetOrAdd(session.Identity!.BroadcasterUserId, _ => new()).TryAdd(session, 0);

    public void Remove(StreamerBotSession session)
    {
        if (session.Identity is { } identity && _byBroadcaster.TryGetValue(identity.BroadcasterUserId, out var sessions))
        {
            sessions.TryRemove(session, out _);
        }
    }

    public IEnumerable<StreamerBotSession> All => _byBroadcaster.Values.SelectMany(s => s.Keys);

    public void Sent(OverlayEnvelope envelope)
    {
        Offer(envelope);
        if (_redis is { IsCompletedSuccessfully: true } redis)
        {
            var message = JsonSerializer.SerializeToUtf8Bytes(new RelayedEnvelope(_instance, envelope), JsonSerializerOptions.Web);
            redis.Result.GetSubscriber().Publish(Channel, message, CommandFlags.FireAndForget);
        }
    }

    private void Offer(OverlayEnvelope envelope)
    {
        if (_byBroadcaster.TryGetValue(envelope.BroadcasterUserId, out var sessions))
        {
            foreach (var session in sessions.Keys)
            {
                session.Offer(envelope);
            }
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        var redis = await ConnectionMultiplexer.ConnectAsync(options);
        // A handler given to Subscribe may run for several messages at once; the queue hands them over one by one, in order.
        var queue = await redis.GetSubscriber().SubscribeAsync(Channel);
        queue.OnMessage(message =>
        {
            try
            {
                var relayed = JsonSerializer.Deserialize<RelayedEnvelope>((byte[])message.Message!, JsonSerializerOptions.Web);
                if (relayed is not null && relayed.Instance != _instance)
                {
                    Offer(relayed.Envelope);
                }
            }
            catch (JsonException exception)
            {
                _logger.LogWarning(exception, "Ignored a malformed envelope on the Streamer.bot Redis channel");
            }
        });
        return redis;
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is { IsCompletedSuccessfully: true } redis)
        {
            await redis.Result.DisposeAsync();
        }
    }

    private sealed record RelayedEnvelope(string Instance, OverlayEnvelope Envelope);
}
