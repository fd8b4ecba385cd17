using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>
/// The hub's own group sends, except that one can be made to fail the way a send through an unreachable
/// Redis backplane does: after the events were stored, part-way through a batch.
/// </summary>
internal sealed class FailingGroupSends(ILogger<DefaultHubLifetimeManager<OverlayHub>> logger) : DefaultHubLifetimeManager<OverlayHub>(logger)
{
    private int _untilFailure = -1;

    /// <summary>Lets <paramref name="succeeding"/> more group sends through, then fails one; the ones after it go through again.</summary>
    public void FailAfter(int succeeding) => Volatile.Write(ref _untilFailure, succeeding);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var left = Interlocked.Decrement(ref _untilFailure);
        return left == -1
            ? Task.FromException(new InvalidOperationException("The backplane is unreachable."))
            : base.SendGroupsAsync(groupNames, methodName, args, cancellationToken);
    }
}
