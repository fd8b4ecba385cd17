using EventSubRelay.Data;
using EventSubRelay.Events;
using EventSubRelay.Overlay;

namespace EventSubRelay.Processing;

/// <summary>
/// Delivers committed notifications: maps each to overlay events, stores them, sends each broadcaster's in its
/// turn of the sequencing gate, and moves the delivery watermark of their owner. It starts with the outbox (what stopped
/// instances, this one's previous run included, committed but did not deliver), so a crash between commit and
/// send loses nothing; only then does it let overlays join (<see cref="OverlaySequencer.Begin"/>).
/// </summary>
internal sealed class DeliveryWorker(
    DeliveryQueue queue,
    OrphanSweeper orphans,
    BroadcasterLanes lanes,
    DeliveryWatermarks watermarks,
    NotificationStore store,
    InstanceLease lease,
    IOverlayEventMapper mapper,
    OverlayEventStore events,
    OverlaySequencer sequencer,
    OverlayFanOut fanOut,
    IEnumerable<INotificationObserver> observers,
    RelayMetrics metrics,
    TimeProvider time,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    /// <summary>
    /// Room for batches and their events on their way out: a batch takes one place until it is marked, each of its
    /// events one until its broadcaster's send is done. A broadcaster whose turn is held (a join storm, a stuck
    /// send) fills places only with its own waiting events; others' events leave at once and free theirs, so
    /// delivery waits for it only once this many are waiting, and memory stays bounded.
    /// </summary>
    private const int MaxInFlight = 10_000;

    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    /// <summary>How often a batch may be refused by the database for what it holds before its notifications are tried one by one.</summary>
    private const int PoisonAttempts = 3;

    private readonly INotificationObserver[] _observers = [.. observers];
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);

    // Cancelled only when the host's shutdown timeout runs out: until then, committed notifications are delivered.
    private readonly CancellationTokenSource _abandon = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WithRetryAsync(async ct => { await lease.EnsureHeldAsync(ct); return true; }, "(taking the instance lease)", stoppingToken);
        var marking = watermarks.RunAsync(_abandon.Token);
        try
        {
            await DeliverOutboxAsync(stoppingToken);
            using var stopSweeping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var sweeping = orphans.RunAsync(stopSweeping.Token);

            // The ingest worker completes the queue once it has stopped; what is in it is still delivered.
            await foreach (var batch in queue.Reader.ReadAllAsync(CancellationToken.None))
            {
                await DeliverAsync(batch, _abandon.Token);
            }

            await stopSweeping.CancelAsync();
            await sweeping;
            for (var i = 0; i < MaxInFlight; i++)
            {
                await _inFlight.WaitAsync(_abandon.Token);
            }
        }
        finally
        {
            watermarks.Complete();
            await marking;
        }
    }

    /// <summary>Map → store → send in each broadcaster's turn → mark. Returns once the sends are queued in their lanes.</summary>
    private async Task DeliverAsync(DeliveryBatch batch, CancellationToken cancellationToken)
    {
        await _inFlight.WaitAsync(cancellationToken);
        // In the order batches arrive, before any later batch can be done (see DeliveryWatermarks).
        var registration = watermarks.Begin(batch);
        var toSend = await MapAndStoreAsync(batch, cancellationToken);
        var sends = new List<Task>();
        foreach (var broadcaster in toSend.GroupBy(e => e.BroadcasterUserId, StringComparer.Ordinal))
        {
            IReadOnlyList<OverlayEvent> broadcasterEvents = [.. broadcaster];
            var places = Math.Min(broadcasterEvents.Count, MaxInFlight - 1);
            for (var i = 0; i < places; i++)
            {
                await _inFlight.WaitAsync(cancellationToken);
            }

            sends.Add(lanes.Run(broadcaster.Key, () => SendInTurnAsync(broadcaster.Key, broadcasterEvents, places, cancellationToken)));
        }

        _ = MarkWhenSentAsync(batch, registration, sends, toSend.Count, cancellationToken);
    }

    /// <summary>
    /// Maps and stores the batch, retrying (as a redelivery) until it succeeds. A batch the database refuses for what it holds
    /// (not an outage) <see cref="PoisonAttempts"/> times is taken apart: each notification is tried alone and
    /// one refused again is dead-lettered, so it never blocks those behind it.
    /// </summary>
    private Task<List<OverlayEvent>> MapAndStoreAsync(DeliveryBatch batch, CancellationToken cancellationToken)
    {
        var refusals = 0;
        var redelivery = batch.Redelivery;
        return WithRetryAsync(
            async ct =>
            {
                try
                {
                    return await MapAndStoreOnceAsync(batch.Notifications, redelivery, ct);
                }
                catch (Npgsql.PostgresException exception) when (!exception.IsTransient && ++refusals >= PoisonAttempts)
                {
                    return await IsolateAsync(batch.Notifications, ct);
                }
                finally
                {
                    // Every retry is a redelivery: an attempt that failed may have stored the events (the connection can
                    // break after the commit), and those must still be sent.
                    redelivery = true;
                }
            },
            batch.Notifications[0].MessageId,
            cancellationToken);
    }

    private async Task<List<OverlayEvent>> MapAndStoreOnceAsync(IReadOnlyList<CommittedNotification> notifications, bool redelivery, CancellationToken cancellationToken)
    {
        var mapped = await MapAsync(notifications, cancellationToken);
        var stored = await events.StoreAsync(mapped, redelivery, cancellationToken);
        return mapped.Where(e => stored.Contains(e.Seq)).ToList();
    }

    /// <summary>Each notification on its own (as a redelivery: some may be stored already); the ones refused again are dead-lettered.</summary>
    private async Task<List<OverlayEvent>> IsolateAsync(IReadOnlyList<CommittedNotification> notifications, CancellationToken cancellationToken)
    {
        var toSend = new List<OverlayEvent>();
        foreach (var notification in notifications)
        {
            try
            {
                toSend.AddRange(await MapAndStoreOnceAsync([notification], redelivery: true, cancellationToken));
            }
            catch (Npgsql.PostgresException exception) when (!exception.IsTransient)
            {
                var error = $"{exception.SqlState}: {exception.MessageText}";
                await store.DeadLetterAsync(notification.MessageId, error, time.GetUtcNow(), cancellationToken);
                metrics.DeadLettered();
                logger.LogError("Notification {MessageId} of type {SubscriptionType} was set aside: the database refuses what delivery makes of it ({SqlState} {Reason})",
                    notification.MessageId, notification.SubscriptionType, exception.SqlState, exception.MessageText);
            }
        }

        return toSend;
    }

    private async Task<List<OverlayEvent>> MapAsync(IReadOnlyList<CommittedNotification> notifications, CancellationToken cancellationToken)
    {
        var numbered = new List<OverlayEvent>(notifications.Count);
        foreach (var notification in notifications)
        {
            foreach (var observer in _observers)
            {
                observer.Observe(notification);
            }

            IReadOnlyList<OverlayEvent> mapped;
            try
            {
                mapped = await mapper.MapAsync(notification, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException and not Npgsql.NpgsqlException and not TimeoutException)
            {
                // A bug, not an outage (those propagate and the batch is retried): log it and keep the others moving.
                logger.LogError(exception, "Notification {MessageId} of type {SubscriptionType} could not be mapped to overlay events", notification.MessageId, notification.SubscriptionType);
                continue;
            }

            if (mapped.Count > OverlayEvent.PerNotification)
            {
                logger.LogError("Notification {MessageId} mapped to {Count} events; only the first {Max} are kept", notification.MessageId, mapped.Count, OverlayEvent.PerNotification);
            }

            numbered.AddRange(mapped.Take(OverlayEvent.PerNotification).Select((e, i) => e.Numbered(notification.Seq, i)));
        }

        return numbered;
    }

    /// <summary>Sends, then gives back the events' places in flight.</summary>
    private async Task SendInTurnAsync(string broadcasterUserId, IReadOnlyList<OverlayEvent> broadcasterEvents, int places, CancellationToken cancellationToken)
    {
        try
        {
            await SendInTurnAsync(broadcasterUserId, broadcasterEvents, cancellationToken);
        }
        finally
        {
            _inFlight.Release(places);
        }
    }

    /// <summary>
    /// Sends the broadcaster's events in order in its turn, retrying until they are all out. A publish to the
    /// Redis backplane fails while Redis is away; the retry starts at the first event not published.
    /// </summary>
    private Task SendInTurnAsync(string broadcasterUserId, IReadOnlyList<OverlayEvent> broadcasterEvents, CancellationToken cancellationToken)
    {
        var sent = 0;
        return WithRetryAsync(
            async ct =>
            {
                using var turn = await sequencer.SendTurnAsync(broadcasterUserId, ct);
                for (; sent < broadcasterEvents.Count; sent++)
                {
                    var envelope = broadcasterEvents[sent].ToEnvelope();
                    await fanOut.SendAsync(envelope, turn, ct);
                    if (logger.IsEnabled(LogLevel.Debug))
                    {
                        // Guarded: the arguments would be boxed for every event even with Debug off.
                        logger.LogDebug("Sent {EventType} {EventId} (seq {Seq}) to broadcaster {BroadcasterUserId}", envelope.Event.Type, envelope.Id, envelope.Seq, broadcasterUserId);
                    }
                }

                return true;
            },
            broadcasterEvents[0].NotificationMessageId,
            cancellationToken);
    }

    /// <summary>Marks the batch delivered once every send is done; abandoned at shutdown, it is left to the outbox.</summary>
    private async Task MarkWhenSentAsync(DeliveryBatch batch, DeliveredPrefixes.Batch registration, List<Task> sends, int eventCount, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(sends);
            watermarks.Delivered(registration);
            metrics.Delivered(eventCount);
            if (batch.CommittedAt is { } committedAt)
            {
                metrics.DeliveryTook(time.GetElapsedTime(committedAt));
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Sent in part or not at all: the watermark stays below it, so the outbox delivers it again after the restart.
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task DeliverOutboxAsync(CancellationToken stoppingToken)
    {
        var total = 0;
        while (await WithRetryAsync(orphans.AdoptAsync, "(adopting the outbox)", stoppingToken) is { } page)
        {
            await DeliverAsync(page, stoppingToken);
            total += page.Notifications.Count;
        }

        await lanes.IdleAsync();
        if (total > 0)
        {
            logger.LogWarning("Delivered {Count} notifications that were stored but not delivered before the last shutdown", total);
        }

        sequencer.Begin(await WithRetryAsync(events.LatestSeqAsync, "(reading the last stored event)", stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await using var registration = cancellationToken.Register(_abandon.Cancel);
        try
        {
            // Wait for the drain first; cancelling the stopping token would abandon deliveries in flight.
            await (ExecuteTask ?? Task.CompletedTask).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Shutdown timed out: what is left stays undelivered and goes out from the outbox at the next start.
        }

        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _abandon.Dispose();
        _inFlight.Dispose();
        base.Dispose();
    }

    /// <summary>Committed notifications must not be dropped: a failing step is retried with backoff until shutdown.</summary>
    private async Task<T> WithRetryAsync<T>(Func<CancellationToken, Task<T>> step, string firstMessageId, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await step(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(exception, "Delivering notifications (first {MessageId}) failed; retrying in {Delay}", firstMessageId, delay);
                metrics.DeliveryFailed();
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }
}
