using System.Threading.Channels;
using EventSubRelay.Events;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Retry;

namespace EventSubRelay.Processing;

/// <summary>
/// Commits queued notifications in batches (group commit): one INSERT … ON CONFLICT DO NOTHING per batch,
/// then every waiting webhook request is answered and the new notifications go on to delivery.
/// </summary>
internal sealed class IngestWorker(
    NotificationQueue queue,
    NotificationStore store,
    DeliveryQueue delivery,
    Data.InstanceLease lease,
    RelayMetrics metrics,
    IOptions<QueueOptions> options,
    TimeProvider time,
    ILogger<IngestWorker> logger) : BackgroundService
{
    /// <summary>
    /// The highest sequence number this instance has stored (its lease key is new in each run, so 0 before its first
    /// commit): batches are committed one at a time, so whatever a batch stores is numbered above it.
    /// </summary>
    private long _lastSeq;

    /// <summary>Asks until the database answers: no later batch is committed before a lost commit's outcome is known.</summary>
    private readonly ResiliencePipeline _untilAnswered = new ResiliencePipelineBuilder { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>().Handle<TimeoutException>(),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(5),
            OnRetry = args =>
            {
                logger.LogError(args.Outcome.Exception, "Could not find out whether a batch whose connection failed was committed; asking again in {Delay}", args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // New notifications are committed at once, even while delivery is still sending the outbox: they queue
        // behind it (DeliveryWorker), so they go out after what was committed before them.
        var batch = new List<PendingNotifications>(options.Value.BatchSize);
        // Shutdown completes the queue instead of cancelling: what was accepted is still committed.
        while (await NextBatchAsync(batch))
        {
            await CommitAsync(batch);
        }

        delivery.Complete();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Complete();
        await base.StopAsync(cancellationToken);
    }

    private async Task<bool> NextBatchAsync(List<PendingNotifications> batch)
    {
        batch.Clear();
        var reader = queue.Reader;
        if (!await reader.WaitToReadAsync())
        {
            return false;
        }

        var size = options.Value.BatchSize;
        var notifications = 0;
        while (notifications < size && reader.TryRead(out var pending))
        {
            batch.Add(pending);
            notifications += pending.Notifications.Count;
        }

        var window = TimeSpan.FromMilliseconds(options.Value.BatchWindowMilliseconds);
        if (notifications < size && window > TimeSpan.Zero)
        {
            using var timeout = new CancellationTokenSource(window, time);
            try
            {
                while (notifications < size && await reader.WaitToReadAsync(timeout.Token))
                {
                    while (notifications < size && reader.TryRead(out var pending))
                    {
                        batch.Add(pending);
                        notifications += pending.Notifications.Count;
                    }
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                // The window closed; commit what we have.
            }
        }

        return true;
    }

    private async Task CommitAsync(List<PendingNotifications> batch)
    {
        var notifications = batch.SelectMany(p => p.Notifications).ToList();
        IReadOnlyList<(string MessageId, long Seq)> inserted;
        try
        {
            var started = time.GetTimestamp();
            inserted = await store.InsertNewAsync(notifications, CancellationToken.None);
            metrics.CommitTook(time.GetElapsedTime(started));
        }
        catch (CommitOutcomeUnknownException exception)
        {
            // Committed or not: a committed batch must go to delivery before the next one (whose delivery moves the
            // watermark past it), and must be acknowledged, or Twitch's retry is taken for a duplicate and never delivered.
            logger.LogError(exception, "The connection failed while {Count} notifications (first {MessageId}) were being committed; finding out whether they were",
                notifications.Count, notifications[0].MessageId);
            NpgsqlConnection.ClearAllPools();
            var ids = notifications.Select(n => n.MessageId).Distinct(StringComparer.Ordinal).ToList();
            inserted = await _untilAnswered.ExecuteAsync(
                async _ => await store.StoredByLostInsertAsync(exception.Backend, ids, _lastSeq, CancellationToken.None), CancellationToken.None);
            if (inserted.Count == 0)
            {
                // Not committed (or every one was a duplicate, which a retry finds): Twitch sends them again.
                AnswerUnavailable(batch, notifications.Count);
                return;
            }

            logger.LogWarning("{Count} notifications (first {MessageId}) were committed before the connection failed; acknowledging and delivering them",
                inserted.Count, notifications[0].MessageId);
        }
        catch (PostgresException exception) when (!exception.IsTransient && batch.Count > 1)
        {
            // One request's rows can fail the whole statement: commit each request on its own, so only it fails.
            logger.LogWarning("Could not commit {Count} notifications together ({SqlState}); committing their {Requests} requests one by one",
                notifications.Count, exception.SqlState, batch.Count);
            foreach (var pending in batch)
            {
                await CommitAsync([pending]);
            }

            return;
        }
        catch (PostgresException exception) when (!exception.IsTransient)
        {
            // Retrying cannot store these rows: refuse the request (Twitch stops retrying a 4xx) instead of failing forever.
            logger.LogError("Could not store notification {MessageId}: {SqlState} {Reason}; refused with 422",
                notifications[0].MessageId, exception.SqlState, exception.MessageText);
            batch[0].Complete(StoreOutcome.Unstorable);
            metrics.CommitFailed(notifications.Count);
            return;
        }
        catch (Exception exception)
        {
            // Whatever failed, nothing was committed: the requests get 503 and Twitch sends them again.
            logger.LogError(exception, "Could not commit {Count} notifications (first {MessageId}); answering 503 so Twitch retries them",
                notifications.Count, notifications[0].MessageId);
            NpgsqlConnection.ClearAllPools();
            AnswerUnavailable(batch, notifications.Count);
            return;
        }

        foreach (var pending in batch)
        {
            pending.Complete(StoreOutcome.Stored);
        }

        if (inserted.Count > 0)
        {
            _lastSeq = inserted.Max(i => i.Seq);
        }

        metrics.Committed(notifications.Count, inserted.Count);
        if (inserted.Count < notifications.Count && logger.IsEnabled(LogLevel.Debug))
        {
            var insertedIds = inserted.Select(i => i.MessageId).ToHashSet(StringComparer.Ordinal);
            foreach (var duplicate in notifications.Where(n => !insertedIds.Contains(n.MessageId)))
            {
                logger.LogDebug("Notification {MessageId} was already stored; ignored", duplicate.MessageId);
            }
        }

        if (inserted.Count == 0)
        {
            return;
        }

        // A batch may hold the same message id twice (a retry racing the original); either copy will do.
        var byId = new Dictionary<string, IncomingNotification>(StringComparer.Ordinal);
        foreach (var n in notifications)
        {
            byId.TryAdd(n.MessageId, n);
        }

        var committed = inserted
            .OrderBy(i => i.Seq)
            .Select(i =>
            {
                var n = byId[i.MessageId];
                return new CommittedNotification(n.MessageId, i.Seq, n.SubscriptionType, n.SubscriptionVersion, n.BroadcasterUserId, n.MessageTimestamp, n.PayloadJson);
            })
            .ToList();

        await delivery.EnqueueAsync(new DeliveryBatch(committed, lease.Key, Redelivery: false, CommittedAt: time.GetTimestamp()));
    }

    /// <summary>The requests get 503 and Twitch sends them again.</summary>
    private void AnswerUnavailable(List<PendingNotifications> batch, int notifications)
    {
        foreach (var pending in batch)
        {
            pending.Complete(StoreOutcome.DatabaseUnavailable);
        }

        metrics.CommitFailed(notifications);
    }
}

/// <summary>
/// Committed notifications to deliver, in sequence order, all of one <paramref name="Owner"/> (the instance that committed
/// them, whose delivery watermark they move); <paramref name="Redelivery"/> when they may have been sent before;
/// <paramref name="CommittedAt"/> (a <see cref="TimeProvider.GetTimestamp"/>) for live batches, to measure delivery.
/// </summary>
internal sealed record DeliveryBatch(IReadOnlyList<CommittedNotification> Notifications, long Owner, bool Redelivery, long? CommittedAt = null);

/// <summary>
/// Committed notifications on their way to overlays, delivered one batch at a time so events go out in
/// sequence order. Bounded: a slow fan-out slows ingest instead of filling memory.
/// </summary>
internal sealed class DeliveryQueue
{
    private readonly Channel<DeliveryBatch> _channel =
        Channel.CreateBounded<DeliveryBatch>(new BoundedChannelOptions(64) { SingleReader = true });

    public ChannelReader<DeliveryBatch> Reader => _channel.Reader;

    public ValueTask EnqueueAsync(DeliveryBatch batch, CancellationToken cancellationToken = default) => _channel.Writer.WriteAsync(batch, cancellationToken);

    public void Complete() => _channel.Writer.TryComplete();
}
