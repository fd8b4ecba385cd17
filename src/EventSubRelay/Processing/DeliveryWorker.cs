using System.Threading.Channels;
using EventSubRelay.Events;
using EventSubRelay.Overlay;

namespace EventSubRelay.Processing;

/// <summary>
/// Turns committed notifications into overlay events, stores them, sends them and marks the
/// notifications delivered. At start-up, and then every <see cref="OrphanSweepInterval"/>, it adopts and
/// delivers what crashed instances (this one's previous run included) committed but did not deliver
/// (the outbox), so a crash between commit and fan-out loses nothing. See <see cref="InstanceLease"/>.
/// </summary>
internal sealed class DeliveryWorker(
    DeliveryQueue delivery,
    NotificationStore store,
    InstanceLease lease,
    IOverlayEventMapper mapper,
    OverlayFanOut fanOut,
    Accounts.AuthorizationRevocations revocations,
    RelayMetrics metrics,
    Microsoft.Extensions.Options.IOptions<QueueOptions> options,
    TimeProvider time,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private const int OutboxPage = 500;

    /// <summary>Room in the sequence for the events one notification may produce (a chat message and its first-words event, …).</summary>
    public const int EventsPerNotification = 16;
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    // Cancelled only when the host's shutdown timeout runs out: until then, committed notifications are delivered.
    private readonly CancellationTokenSource _abandon = new();

    // Delivered notifications waiting to be marked: one UPDATE at a time, for all that queued up meanwhile.
    private readonly Channel<IReadOnlyList<string>> _delivered = Channel.CreateUnbounded<IReadOnlyList<string>>(new UnboundedChannelOptions { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WithRetryAsync(async ct => { await lease.EnsureHeldAsync(ct); return true; }, stoppingToken);
        // Marks start with the first delivery, the outbox's included, and are finished however delivery ends.
        var marking = MarkDeliveredAsync(_abandon.Token);
        try
        {
            await DeliverOutboxAsync(stoppingToken);
            using var stopSweeping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var sweeping = SweepOrphansAsync(stopSweeping.Token);

            // The ingest worker completes the queue once it has stopped; what is in it is still delivered.
            await foreach (var batch in delivery.Reader.ReadAllAsync(CancellationToken.None))
            {
                await DeliverWithRetryAsync(batch.Notifications, batch.Redelivery, _abandon.Token);
                if (batch.CommittedAt is { } committedAt)
                {
                    metrics.DeliveryTook(time.GetElapsedTime(committedAt));
                }
            }

            await stopSweeping.CancelAsync();
            await sweeping;
        }
        finally
        {
            _delivered.Writer.Complete();
            await marking;
        }
    }

    /// <summary>Adopts what instances that died meanwhile left undelivered, through the same queue as live batches.</summary>
    private async Task SweepOrphansAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.OrphanSweepSeconds);
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await lease.EnsureHeldAsync(stoppingToken);
                    IReadOnlyList<CommittedNotification> page;
                    while ((page = await store.AdoptOrphansAsync(OutboxPage, stoppingToken)).Count > 0)
                    {
                        logger.LogWarning("Adopted {Count} notifications {MessageIds} left undelivered by a stopped instance", page.Count, page.Select(n => n.MessageId).ToArray());
                        await delivery.EnqueueAsync(new DeliveryBatch(page, Redelivery: true), stoppingToken);
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException and not System.Threading.Channels.ChannelClosedException)
                {
                    logger.LogWarning(exception, "Looking for undelivered notifications of stopped instances failed; trying again in {Interval}", interval);
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            // Shutting down: what was adopted but not delivered is adopted again by the next instance.
        }
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
        base.Dispose();
    }

    private async Task DeliverOutboxAsync(CancellationToken stoppingToken)
    {
        var total = 0;
        while (true)
        {
            var page = await WithRetryAsync(ct => store.AdoptOrphansAsync(OutboxPage, ct), stoppingToken);
            if (page.Count == 0)
            {
                break;
            }

            await DeliverWithRetryAsync(page, redelivery: true, stoppingToken);
            total += page.Count;
        }

        if (total > 0)
        {
            logger.LogWarning("Delivered {Count} notifications that were stored but not delivered before the last shutdown", total);
        }

        fanOut.MarkReady(await WithRetryAsync(store.LatestEventSeqAsync, stoppingToken));
    }

    /// <summary>
    /// Delivers the batch, retrying until it succeeds. An attempt that failed may have stored the events and
    /// sent some of them (a send through the Redis backplane fails while Redis is away): the next attempt is
    /// a redelivery that skips what went out.
    /// </summary>
    private Task DeliverWithRetryAsync(IReadOnlyList<CommittedNotification> batch, bool redelivery, CancellationToken stoppingToken)
    {
        var sent = new HashSet<string>(StringComparer.Ordinal);
        var attempts = 0;
        return WithRetryAsync(
            async ct =>
            {
                await DeliverAsync(batch, redelivery || attempts++ > 0, sent, ct);
                return true;
            },
            stoppingToken,
            batch.Select(n => n.MessageId).ToArray());
    }

    private async Task DeliverAsync(IReadOnlyList<CommittedNotification> batch, bool redelivery, HashSet<string> sent, CancellationToken cancellationToken)
    {
        var events = new List<PreparedEvent>(batch.Count);
        foreach (var notification in batch)
        {
            using var scope = logger.BeginScope(new Dictionary<string, object> { ["MessageId"] = notification.MessageId });
            revocations.Observe(notification);
            IReadOnlyList<PreparedEvent> mapped;
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

            if (mapped.Count > EventsPerNotification)
            {
                logger.LogError("Notification {MessageId} mapped to {Count} events; only the first {Max} are kept", notification.MessageId, mapped.Count, EventsPerNotification);
            }

            // The event's sequence number comes from the notification's, which was committed before Twitch got
            // its answer: it is the same however often the notification is delivered, and never reused.
            events.AddRange(mapped.Take(EventsPerNotification).Select((e, i) => e with { Seq = notification.Seq * EventsPerNotification + i }));
        }

        var envelopes = await fanOut.SendAsync(
            async ct =>
            {
                var stored = await store.InsertEventsAsync(events, ct);
                if (redelivery && stored.Count < events.Count)
                {
                    // Stored before a restart or a failed attempt but perhaps never sent: send those too. An event
                    // another one was deduplicated against has a different id, so it is still left out.
                    var missing = events.Where(e => !stored.Contains(e.Id)).Select(e => e.Id).ToList();
                    stored = stored.Union(await store.StoredEventIdsAsync(missing, ct)).ToHashSet(StringComparer.Ordinal);
                }

                return events
                    .Where(e => stored.Contains(e.Id) && !sent.Contains(e.Id))
                    .OrderBy(e => e.Seq)
                    .Select(e => e.ToEnvelope())
                    .ToList();
            },
            cancellationToken,
            envelope => sent.Add(envelope.Id));
        // Marking is off the path to the next batch; a lost mark only means the outbox sends the same events
        // (same ids and sequence numbers) again after a crash.
        _delivered.Writer.TryWrite(batch.Select(n => n.MessageId).ToList());
        metrics.Delivered(envelopes.Count);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            foreach (var envelope in envelopes)
            {
                logger.LogDebug("Sent {EventType} {EventId} (seq {Seq}) to broadcaster {BroadcasterUserId}", envelope.Event.Type, envelope.Id, envelope.Seq, envelope.BroadcasterUserId);
            }
        }
    }

    /// <summary>Marks delivered notifications until the delivery loop ends, in one statement for all that are waiting.</summary>
    private async Task MarkDeliveredAsync(CancellationToken cancellationToken)
    {
        var messageIds = new List<string>();
        while (await _delivered.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (_delivered.Reader.TryRead(out var delivered))
            {
                messageIds.AddRange(delivered);
            }

            try
            {
                await store.MarkDeliveredAsync(messageIds, time.GetUtcNow(), cancellationToken);
            }
            catch (Exception exception)
            {
                // The events went out; left unmarked, they are sent again (same ids and sequence numbers) after a restart.
                logger.LogWarning(exception, "Could not mark notifications {MessageIds} delivered", messageIds);
            }

            messageIds.Clear();
        }
    }

    /// <summary>Committed notifications must not be dropped: a failing step is retried with backoff until shutdown.</summary>
    private async Task<T> WithRetryAsync<T>(Func<CancellationToken, Task<T>> step, CancellationToken stoppingToken, string[]? messageIds = null)
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
                logger.LogError(exception, "Delivering notifications {MessageIds} failed; retrying in {Delay}", messageIds ?? [], delay);
                metrics.DeliveryFailed();
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }
}
