using System.Threading.Channels;
using EventSubRelay.Data;

namespace EventSubRelay.Processing;

/// <summary>
/// Adopts notifications that instances which stopped (this one's previous run included) committed but did not
/// deliver: the outbox, everything above a stopped instance's delivery watermark. Delivery adopts everything at
/// start-up; <see cref="RunAsync"/> then looks again every <see cref="QueueOptions.OrphanSweepSeconds"/> and queues
/// what it finds behind the live batches.
/// </summary>
internal sealed class OrphanSweeper(
    NotificationStore store,
    InstanceLease lease,
    DeliveryQueue delivery,
    Microsoft.Extensions.Options.IOptions<QueueOptions> options,
    TimeProvider time,
    ILogger<OrphanSweeper> logger)
{
    private const int Page = 500;

    // Per adopted owner, the last sequence number given to delivery: pages already queued are above the owner's
    // watermark until they are delivered, and are not read again. Used by one caller at a time (start-up, then the sweep).
    private readonly Dictionary<long, long> _queuedThrough = [];

    // Owners adopted and not yet read to their end, in the order adopted: read page by page without adopting again.
    private readonly Queue<(long Owner, long DeliveredThrough)> _adopted = [];

    /// <summary>
    /// The next page of orphans of one stopped owner, oldest first, now delivered by this instance; null when none
    /// are left, which is known only once adopting again found nothing more.
    /// </summary>
    public async Task<DeliveryBatch?> AdoptAsync(CancellationToken cancellationToken)
    {
        var adoptedAgain = false;
        while (true)
        {
            if (_adopted.Count == 0)
            {
                if (adoptedAgain)
                {
                    return null;
                }

                foreach (var owner in await store.AdoptOrphanedOwnersAsync(cancellationToken))
                {
                    _adopted.Enqueue(owner);
                }

                adoptedAgain = true;
                continue;
            }

            var (next, deliveredThrough) = _adopted.Peek();
            var after = Math.Max(deliveredThrough, _queuedThrough.GetValueOrDefault(next));
            var page = await store.ReadOwnedAfterAsync(next, after, Page, cancellationToken);
            if (page.Count > 0)
            {
                _queuedThrough[next] = page[^1].Seq;
                return new DeliveryBatch(page, next, Redelivery: true);
            }

            _adopted.Dequeue();
        }
    }

    public async Task RunAsync(CancellationToken stoppingToken)
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
                    while (await AdoptAsync(stoppingToken) is { } page)
                    {
                        logger.LogWarning("Adopted {Count} notifications left undelivered by stopped instance {InstanceKey} (first {MessageId})",
                            page.Notifications.Count, page.Owner, page.Notifications[0].MessageId);
                        await delivery.EnqueueAsync(page, stoppingToken);
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException and not ChannelClosedException)
                {
                    logger.LogWarning(exception, "Looking for undelivered notifications of stopped instances failed; trying again in {Interval}", interval);
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or ChannelClosedException)
        {
            // Shutting down: what was adopted but not delivered stays above its owner's watermark, for the next instance.
        }
    }
}
