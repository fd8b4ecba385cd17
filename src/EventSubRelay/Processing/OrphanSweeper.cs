using System.Threading.Channels;
using EventSubRelay.Data;
using EventSubRelay.Events;

namespace EventSubRelay.Processing;

/// <summary>
/// Adopts notifications that instances which stopped (this one's previous run included) committed but did not
/// deliver: the outbox. Delivery adopts everything at start-up; <see cref="RunAsync"/> then looks again every
/// <see cref="QueueOptions.OrphanSweepSeconds"/> and queues what it finds behind the live batches.
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

    /// <summary>The next page of orphans, oldest first, now owned by this instance (empty when none are left).</summary>
    public Task<IReadOnlyList<CommittedNotification>> AdoptAsync(CancellationToken cancellationToken) => store.AdoptOrphansAsync(Page, cancellationToken);

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
                    IReadOnlyList<CommittedNotification> page;
                    while ((page = await AdoptAsync(stoppingToken)).Count > 0)
                    {
                        logger.LogWarning("Adopted {Count} notifications left undelivered by a stopped instance (first {MessageId})", page.Count, page[0].MessageId);
                        await delivery.EnqueueAsync(new DeliveryBatch(page, Redelivery: true), stoppingToken);
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
            // Shutting down: what was adopted but not delivered is adopted again by the next instance.
        }
    }
}
