using System.Threading.Channels;

namespace EventSubRelay.Processing;

/// <summary>
/// Marks notifications delivered once their events have gone out: one UPDATE at a time, for all that queued
/// up meanwhile, off the path of the next delivery. A lost mark only means the outbox sends the same events
/// (same ids and sequence numbers) again after a crash.
/// </summary>
internal sealed class DeliveryMarks(NotificationStore store, TimeProvider time, ILogger<DeliveryMarks> logger)
{
    private readonly Channel<IReadOnlyList<string>> _delivered = Channel.CreateUnbounded<IReadOnlyList<string>>(new UnboundedChannelOptions { SingleReader = true });

    public void Add(IReadOnlyList<string> messageIds) => _delivered.Writer.TryWrite(messageIds);

    /// <summary>No more marks come; <see cref="RunAsync"/> ends once it has written those given.</summary>
    public void Complete() => _delivered.Writer.TryComplete();

    public async Task RunAsync(CancellationToken cancellationToken)
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
                logger.LogWarning(exception, "Could not mark {Count} notifications delivered (first {MessageId})", messageIds.Count, messageIds[0]);
            }

            messageIds.Clear();
        }
    }
}
