using EventSubRelay.Events;
using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Overlay;

/// <summary>
/// Sends an event to the broadcaster's overlay groups and tells the other endpoints' listeners. It neither
/// stores nor orders: delivery calls it in the broadcaster's turn (<see cref="OverlaySequencer"/>), test alerts
/// call it directly.
/// </summary>
internal sealed class OverlayFanOut(IHubContext<OverlayHub> hub, IEnumerable<IOverlayEnvelopeListener> listeners)
{
    private readonly IOverlayEnvelopeListener[] _listeners = [.. listeners];

    public async Task SendAsync(OverlayEnvelope envelope, CancellationToken cancellationToken)
    {
        // A connection is never in both groups (see OverlaySubscriptions), so nobody receives it twice.
        string[] groups = [OverlayGroups.For(envelope.BroadcasterUserId, OverlayGroups.AllTypes), OverlayGroups.For(envelope.BroadcasterUserId, envelope.Event.Type)];
        await hub.Clients.Groups(groups).SendAsync(OverlayClientMethods.Event, envelope, cancellationToken);
        foreach (var listener in _listeners)
        {
            listener.Sent(envelope);
        }
    }
}
