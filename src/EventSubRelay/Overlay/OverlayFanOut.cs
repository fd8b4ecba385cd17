using EventSubRelay.Events;
using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Overlay;

/// <summary>
/// Sends an event to this instance's overlay groups of the broadcaster, tells the other endpoints' listeners
/// (<see cref="IOverlayEnvelopeListener"/>), and
/// with several instances publishes it to the others (<see cref="OverlayBackplane"/>). It neither stores nor
/// orders: delivery calls it in the broadcaster's turn (<see cref="OverlaySequencer"/>), test alerts directly.
/// </summary>
internal sealed class OverlayFanOut(IHubContext<OverlayHub> hub, IEnumerable<IOverlayEnvelopeListener> listeners, OverlayBackplane? backplane = null)
{
    private readonly IOverlayEnvelopeListener[] _listeners = [.. listeners];

    /// <summary>
    /// Sends the event in <paramref name="turn"/> (null for test alerts, which are not stored). A retry after a
    /// failed publish does not give this instance's overlays the event again: the turn knows it went out.
    /// </summary>
    public async Task SendAsync(OverlayEnvelope envelope, OverlaySequencer.Turn? turn, CancellationToken cancellationToken)
    {
        await SendOnceAsync(hub, _listeners, envelope, turn, cancellationToken);
        if (backplane is not null)
        {
            await backplane.PublishAsync(envelope, cancellationToken);
        }
    }

    /// <summary>
    /// Tells the listeners and sends to this instance's groups, unless <paramref name="turn"/> knows the event went
    /// out already. The listeners first: once any hub connection has the event, every Streamer.bot socket has been
    /// offered it, so a socket that subscribes after an overlay saw it does not get it late. (A retry after a failed
    /// send offers it again; a socket skips an event it sent.)
    /// </summary>
    internal static async Task SendOnceAsync(
        IHubContext<OverlayHub> hub, IReadOnlyList<IOverlayEnvelopeListener> listeners, OverlayEnvelope envelope, OverlaySequencer.Turn? turn, CancellationToken cancellationToken)
    {
        if (turn?.HasSent(envelope.Seq) == true)
        {
            return;
        }

        foreach (var listener in listeners)
        {
            listener.Sent(envelope);
        }

        await SendToGroupsAsync(hub, envelope, cancellationToken);
        turn?.Sent(envelope.Seq);
    }

    /// <summary>Sends to this instance's connections in the broadcaster's groups.</summary>
    private static Task SendToGroupsAsync(IHubContext<OverlayHub> hub, OverlayEnvelope envelope, CancellationToken cancellationToken)
    {
        // A connection is never in both groups (see OverlaySubscriptions), so nobody receives it twice.
        string[] groups = [OverlayGroups.For(envelope.BroadcasterUserId, OverlayGroups.AllTypes), OverlayGroups.For(envelope.BroadcasterUserId, envelope.Event.Type)];
        return hub.Clients.Groups(groups).SendAsync(OverlayClientMethods.Event, envelope, cancellationToken);
    }
}
