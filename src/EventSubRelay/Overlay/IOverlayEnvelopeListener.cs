using EventSubRelay.Events;

namespace EventSubRelay.Overlay;

/// <summary>
/// Another endpoint's connections on this instance (the Streamer.bot sockets), which hear every event of their
/// broadcaster as the hub's groups do: each one this instance sends or is given by the backplane, in the order the
/// hub gets them, and after a backplane outage the ones it caught up. Called in the broadcaster's turn
/// (<see cref="OverlaySequencer"/>), except for test alerts: an implementation must return at once (hand the
/// envelope to a queue).
/// </summary>
internal interface IOverlayEnvelopeListener
{
    /// <summary>An event sent live to the broadcaster's overlays here.</summary>
    void Sent(OverlayEnvelope envelope);

    /// <summary>
    /// A stored event the backplane did not bring during an outage, in sequence order: for the connections that
    /// joined before it was stored (see <see cref="JoinedAfter"/>).
    /// </summary>
    void CaughtUp(OverlayEnvelope envelope);

    /// <summary>
    /// The lowest join horizon (<see cref="OverlaySequencer.Turn.ReadHorizonAsync"/>) of the broadcaster's
    /// connections here, read in their join turns: a catch-up owes them the stored events above it, of every type.
    /// Null when the broadcaster has none.
    /// </summary>
    long? JoinedAfter(string broadcasterUserId);

    /// <summary>The broadcasters with connections here.</summary>
    IReadOnlyCollection<string> Broadcasters();
}
