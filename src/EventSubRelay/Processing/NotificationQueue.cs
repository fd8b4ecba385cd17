using System.ComponentModel.DataAnnotations;
using System.Threading.Channels;

namespace EventSubRelay.Processing;

internal sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>Requests waiting to be committed. Beyond this the relay answers 503 and Twitch retries later.</summary>
    [Range(1, 1_000_000)]
    public int Capacity { get; set; } = 20_000;

    /// <summary>The most notifications committed in one statement.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>How long a small batch waits for more notifications before it is committed.</summary>
    [Range(0, 1000)]
    public int BatchWindowMilliseconds { get; set; }

    /// <summary>How often each instance looks for notifications that stopped instances left undelivered.</summary>
    [Range(1, 3600)]
    public int OrphanSweepSeconds { get; set; } = 15;

    /// <summary>How long a webhook request waits for its commit before answering 503.</summary>
    [Range(1, 120)]
    public int AcknowledgeTimeoutSeconds { get; set; } = 10;
}

/// <summary>A verified notification, ready to be stored.</summary>
internal sealed record IncomingNotification(
    string MessageId,
    string SubscriptionId,
    string SubscriptionType,
    string SubscriptionVersion,
    string? BroadcasterUserId,
    DateTimeOffset MessageTimestamp,
    DateTimeOffset ReceivedAt,
    int RetryCount,
    string PayloadJson);

internal enum StoreOutcome
{
    Stored,
    DatabaseUnavailable,

    /// <summary>PostgreSQL refused this request's rows for what they are (retrying cannot store them).</summary>
    Unstorable,

    /// <summary>The queue is full or the relay is shutting down: nothing was taken.</summary>
    QueueFull,
}

/// <summary>The notifications of one webhook request and the request's wait for their commit (see <see cref="NotificationQueue.SubmitAsync"/>).</summary>
internal sealed class PendingNotifications(IReadOnlyList<IncomingNotification> notifications)
{
    private readonly TaskCompletionSource<StoreOutcome> _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<IncomingNotification> Notifications { get; } = notifications;
    public Task<StoreOutcome> Committed => _committed.Task;

    public void Complete(StoreOutcome outcome) => _committed.TrySetResult(outcome);
}

/// <summary>
/// Verified notifications waiting for the ingest worker. Bounded so that a stalled database turns into
/// quick 503s (Twitch retries them) instead of unbounded memory growth.
/// </summary>
internal sealed class NotificationQueue
{
    private readonly Channel<PendingNotifications> _channel;
    private readonly TimeSpan _acknowledgeTimeout;

    public NotificationQueue(Microsoft.Extensions.Options.IOptions<QueueOptions> options)
    {
        Capacity = options.Value.Capacity;
        _acknowledgeTimeout = TimeSpan.FromSeconds(options.Value.AcknowledgeTimeoutSeconds);
        _channel = Channel.CreateBounded<PendingNotifications>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    public int Capacity { get; }
    public int Count => _channel.Reader.Count;

    /// <summary>Nine tenths full: readiness reports the instance as unable to take more.</summary>
    public bool IsSaturated => Count >= Capacity * 9 / 10;

    public ChannelReader<PendingNotifications> Reader => _channel.Reader;

    /// <summary>
    /// Queues one request's notifications and waits for their commit, never longer than
    /// <see cref="QueueOptions.AcknowledgeTimeoutSeconds"/> (Twitch gives up after a few seconds and retries).
    /// </summary>
    public async Task<StoreOutcome> SubmitAsync(IReadOnlyList<IncomingNotification> notifications)
    {
        var pending = new PendingNotifications(notifications);
        if (!_channel.Writer.TryWrite(pending))
        {
            return StoreOutcome.QueueFull;
        }

        try
        {
            return await pending.Committed.WaitAsync(_acknowledgeTimeout);
        }
        catch (TimeoutException)
        {
            // Still queued: it may be committed later, and Twitch's retry is then dropped as a duplicate.
            return StoreOutcome.DatabaseUnavailable;
        }
    }

    /// <summary>Stops accepting; the worker drains what is queued.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
