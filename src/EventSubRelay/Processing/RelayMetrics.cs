using System.Diagnostics.Metrics;

namespace EventSubRelay.Processing;

/// <summary>The relay's own instruments, exported with the ASP.NET Core and runtime metrics.</summary>
internal sealed class RelayMetrics
{
    public const string MeterName = Operations.OperationsExtensions.MeterName;

    private readonly Counter<long> _received;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _commitFailures;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _deliveryFailures;
    private readonly Counter<long> _deadLetters;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<double> _deliveryDuration;

    /// <summary>Millisecond buckets fine enough to tell a 2 ms stage from a 20 ms one.</summary>
    private static readonly InstrumentAdvice<double> Milliseconds = new()
    {
        HistogramBucketBoundaries = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 250, 500, 1000, 2500],
    };

    public RelayMetrics(IMeterFactory meterFactory, NotificationQueue queue)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("eventsubrelay.notifications.stored", description: "Notifications committed for the first time.");
        _duplicates = meter.CreateCounter<long>("eventsubrelay.notifications.duplicates", description: "Notifications whose message id was already stored.");
        _commitFailures = meter.CreateCounter<long>("eventsubrelay.notifications.commit_failures", description: "Notifications answered 503 because the commit failed.");
        _delivered = meter.CreateCounter<long>("eventsubrelay.events.sent", description: "Overlay events sent to the hub.");
        _deliveryFailures = meter.CreateCounter<long>("eventsubrelay.delivery.failures", description: "Delivery steps that failed (database or Redis backplane away) and are being retried.");
        _deadLetters = meter.CreateCounter<long>("eventsubrelay.delivery.dead_letters", description: "Committed notifications set aside because their delivery failed for a reason retrying cannot fix.");
        _batchSize = meter.CreateHistogram<int>("eventsubrelay.commit.batch_size", description: "Notifications per group commit.");
        _commitDuration = meter.CreateHistogram("eventsubrelay.commit.duration", "ms", "Time of one group commit (the durable insert before the acknowledgements).", advice: Milliseconds);
        _deliveryDuration = meter.CreateHistogram("eventsubrelay.delivery.duration", "ms", "From a batch's commit until its events were handed to SignalR (mapping, stored events, send).", advice: Milliseconds);
        meter.CreateObservableGauge("eventsubrelay.queue.depth", () => queue.Count, description: "Webhook requests waiting for their commit.");
    }

    public void Committed(int batch, int inserted)
    {
        _batchSize.Record(batch);
        _received.Add(inserted);
        _duplicates.Add(batch - inserted);
    }

    public void CommitFailed(int count) => _commitFailures.Add(count);

    public void CommitTook(TimeSpan duration) => _commitDuration.Record(duration.TotalMilliseconds);

    public void DeliveryTook(TimeSpan sinceCommit) => _deliveryDuration.Record(sinceCommit.TotalMilliseconds);

    public void Delivered(int count) => _delivered.Add(count);

    public void DeliveryFailed() => _deliveryFailures.Add(1);

    public void DeadLettered() => _deadLetters.Add(1);
}
