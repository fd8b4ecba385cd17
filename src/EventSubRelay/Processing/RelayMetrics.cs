using System.Diagnostics.Metrics;

namespace EventSubRelay.Processing;

/// <summary>The relay's own instruments, exported with the ASP.NET Core and runtime metrics.</summary>
internal sealed class RelayMetrics
{
    public const string MeterName = "EventSubRelay";

    private readonly Counter<long> _received;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _commitFailures;
    private readonly Counter<long> _delivered;
    private readonly Histogram<int> _batchSize;

    public RelayMetrics(IMeterFactory meterFactory, NotificationQueue queue)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("eventsubrelay.notifications.stored", description: "Notifications committed for the first time.");
        _duplicates = meter.CreateCounter<long>("eventsubrelay.notifications.duplicates", description: "Notifications whose message id was already stored.");
        _commitFailures = meter.CreateCounter<long>("eventsubrelay.notifications.commit_failures", description: "Notifications answered 503 because the commit failed.");
        _delivered = meter.CreateCounter<long>("eventsubrelay.events.sent", description: "Overlay events sent to the hub.");
        _batchSize = meter.CreateHistogram<int>("eventsubrelay.commit.batch_size", description: "Notifications per group commit.");
        meter.CreateObservableGauge("eventsubrelay.queue.depth", () => queue.Count, description: "Webhook requests waiting for their commit.");
    }

    public void Committed(int batch, int inserted)
    {
        _batchSize.Record(batch);
        _received.Add(inserted);
        _duplicates.Add(batch - inserted);
    }

    public void CommitFailed(int count) => _commitFailures.Add(count);

    public void Delivered(int count) => _delivered.Add(count);
}
