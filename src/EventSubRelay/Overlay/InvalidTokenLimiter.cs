using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Overlay;

/// <summary>
/// Slows down token guessing: an address that presents too many invalid overlay tokens within a
/// minute has its further invalid tokens refused (429) until the window ends; a valid token still gets in.
/// </summary>
internal sealed class InvalidTokenLimiter(IOptions<OverlayOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.InvalidTokenAttemptsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    public bool IsBlocked(string address) =>
        _failures.GetStatistics(address) is { CurrentAvailablePermits: <= 0 };

    public void RecordFailure(string address)
    {
        using var _ = _failures.AttemptAcquire(address);
    }

    public void Dispose() => _failures.Dispose();
}
