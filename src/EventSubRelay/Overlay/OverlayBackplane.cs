using System.Text.Json;
using EventSubRelay.Events;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace EventSubRelay.Overlay;

/// <summary>
/// With several instances, carries each instance's events to the others over one Redis channel; each instance
/// gives them to its own overlays' groups and to the listeners of its other endpoints (the Streamer.bot sockets,
/// <see cref="IOverlayEnvelopeListener"/>) in the broadcaster's turn (<see cref="OverlaySequencer"/>), and
/// remembers which stored events it gave them (<see cref="DeliveredLog"/>).
/// </summary>
/// <remarks>
/// Redis keeps nothing for a subscriber that is away, so while this instance's connection to it is down the other
/// instances' events do not reach it. From the moment the connection fails, received events are dropped, and this
/// instance publishes pings to itself until one comes back: from then on it hears everything published. It then
/// catches every broadcaster with overlays or listening sockets here up from PostgreSQL (every event is stored
/// before it is published), in the broadcaster's turn and in sequence order, skipping what they already have,
/// before any later live event; events that come again (a publish retried after a timeout) are skipped the same way. Publishing is
/// awaited, so a publish that fails is retried by delivery and none is left out on the sending side.
/// </remarks>
internal sealed class OverlayBackplane(
    string configuration,
    IHubContext<OverlayHub> hub,
    IEnumerable<IOverlayEnvelopeListener> listeners,
    OverlaySequencer sequencer,
    OverlaySubscriptions subscriptions,
    TimeProvider time,
    ILogger<OverlayBackplane> logger) : BackgroundService
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("eventsubrelay:overlay:events");
    private static readonly TimeSpan PingInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly IOverlayEnvelopeListener[] _listeners = [.. listeners];
    private readonly TaskCompletionSource<ConnectionMultiplexer> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly BroadcasterLanes _lanes = new();
    private readonly SemaphoreSlim _lost = new(0);
    private readonly Lock _lock = new();

    // Both change only under _lock. A ping counts only for the generation it was sent in: after another failure
    // it proves nothing about the new subscription.
    private long _generation = 1;
    private bool _receiving;
    private CancellationToken _stopping;

    /// <summary>Publishes an event to the other instances; throws while Redis is away (delivery retries).</summary>
    public async Task PublishAsync(OverlayEnvelope envelope, CancellationToken cancellationToken)
    {
        var redis = await _connected.Task.WaitAsync(cancellationToken);
        await redis.GetSubscriber().PublishAsync(Channel, Serialize(new Relayed(_instance, envelope, null))).WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        var redis = await ConnectionMultiplexer.ConnectAsync(options);
        redis.ConnectionFailed += (_, failed) => Lose(failed.ConnectionType, failed.FailureType);
        var queue = await RetryAsync("subscribe to its Redis channel", () => redis.GetSubscriber().SubscribeAsync(Channel), stoppingToken);
        // One message at a time, in the order Redis delivered them: a catch-up is queued before the events after it.
        queue.OnMessage(Receive);
        _connected.TrySetResult(redis);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                long generation;
                lock (_lock)
                {
                    generation = _receiving ? 0 : _generation;
                }

                if (generation == 0)
                {
                    await _lost.WaitAsync(stoppingToken);
                    continue;
                }

                try
                {
                    await redis.GetSubscriber().PublishAsync(Channel, Serialize(new Relayed(_instance, null, generation)));
                }
                catch (Exception exception) when (exception is RedisException or TimeoutException)
                {
                    logger.LogDebug(exception, "Redis is still away");
                }

                await Task.Delay(PingInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Without waiting for commands: Redis may be the reason for stopping.
            await redis.CloseAsync(allowCommandsToComplete: false);
            await redis.DisposeAsync();
        }
    }

    private void Lose(ConnectionType connection, ConnectionFailureType failure)
    {
        bool wasReceiving;
        lock (_lock)
        {
            wasReceiving = _receiving;
            _receiving = false;
            _generation++;
        }

        if (wasReceiving)
        {
            logger.LogWarning("The Redis backplane is away ({Connection} connection, {Failure}); overlays here miss other instances' events until it is back and they are caught up", connection, failure);
        }

        _lost.Release();
    }

    private Task Receive(ChannelMessage message)
    {
        Relayed? relayed;
        try
        {
            relayed = JsonSerializer.Deserialize<Relayed>((byte[])message.Message!, JsonSerializerOptions.Web);
        }
        catch (JsonException exception)
        {
            logger.LogWarning(exception, "Ignored a malformed message on the overlay backplane");
            return Task.CompletedTask;
        }

        if (relayed is null)
        {
            return Task.CompletedTask;
        }

        if (relayed.Instance == _instance)
        {
            // This instance's own events went to its overlays before they were published.
            if (relayed.Ping is { } generation)
            {
                Pinged(generation);
            }

            return Task.CompletedTask;
        }

        if (relayed.Envelope is not { } envelope || !IsReceiving() || !IsHere(envelope.BroadcasterUserId))
        {
            // Nobody here to give it to, or it will come with the catch-up (it is stored).
            return Task.CompletedTask;
        }

        _lanes.Run(envelope.BroadcasterUserId, () => GiveAsync(envelope));
        return Task.CompletedTask;
    }

    private void Pinged(long generation)
    {
        lock (_lock)
        {
            if (_receiving || generation != _generation)
            {
                return;
            }

            _receiving = true;
        }

        var broadcasters = subscriptions.Broadcasters().Union(_listeners.SelectMany(l => l.Broadcasters()), StringComparer.Ordinal).ToList();
        logger.LogInformation("The Redis backplane is connected; catching up the overlays of {Count} broadcasters", broadcasters.Count);
        foreach (var broadcaster in broadcasters)
        {
            _lanes.Run(broadcaster, () => CatchUpAsync(broadcaster));
        }
    }

    /// <summary>Whether the broadcaster has overlays or listening sockets on this instance.</summary>
    private bool IsHere(string broadcasterUserId) =>
        subscriptions.HasConnections(broadcasterUserId) || _listeners.Any(l => l.JoinedAfter(broadcasterUserId) is not null);

    private bool IsReceiving()
    {
        lock (_lock)
        {
            return _receiving;
        }
    }

    private async Task GiveAsync(OverlayEnvelope envelope)
    {
        try
        {
            if (envelope.IsTest)
            {
                // Test alerts are not stored: nothing to catch up or to skip.
                await OverlayFanOut.SendOnceAsync(hub, _listeners, envelope, null, _stopping);
                return;
            }

            using var turn = await sequencer.SendTurnAsync(envelope.BroadcasterUserId, _stopping);
            await OverlayFanOut.SendOnceAsync(hub, _listeners, envelope, turn, _stopping);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not give event {EventId} from another instance to the overlays of broadcaster {BroadcasterUserId}", envelope.Id, envelope.BroadcasterUserId);
        }
    }

    private async Task CatchUpAsync(string broadcasterUserId)
    {
        try
        {
            var caughtUp = await RetryAsync("catch overlays up", () => subscriptions.CatchUpAsync(broadcasterUserId, _listeners, _stopping), _stopping);
            if (caughtUp > 0)
            {
                logger.LogInformation("Caught up the overlays and sockets of broadcaster {BroadcasterUserId} with {Count} events the backplane did not bring", broadcasterUserId, caughtUp);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task<T> RetryAsync<T>(string what, Func<Task<T>> step, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await step();
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "The overlay backplane could not {Step}; retrying in {Delay}", what, delay);
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    private static byte[] Serialize(Relayed relayed) => JsonSerializer.SerializeToUtf8Bytes(relayed, JsonSerializerOptions.Web);

    public override void Dispose()
    {
        _lost.Dispose();
        base.Dispose();
    }

    /// <summary>What travels on the channel: an instance's event, or its ping to itself.</summary>
    private sealed record Relayed(string Instance, OverlayEnvelope? Envelope, long? Ping);
}
