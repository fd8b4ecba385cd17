using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventSubRelay.Processing;

/// <summary>Readiness: an instance whose ingest queue is nine tenths full cannot take more webhooks.</summary>
internal sealed class QueueHealthCheck(NotificationQueue queue) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(queue.IsSaturated
            ? HealthCheckResult.Unhealthy($"The ingest queue is saturated ({queue.Count} of {queue.Capacity}).")
            : HealthCheckResult.Healthy($"{queue.Count} of {queue.Capacity} queued."));
}
