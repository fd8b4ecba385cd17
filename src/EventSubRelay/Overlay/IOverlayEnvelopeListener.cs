using EventSubRelay.Events;

namespace EventSubRelay.Overlay;

/// <summary>
/// Hears every envelope this instance's fan-out has sent to the hub, in the order sent, right after the send.
/// Called on the fan-out's path: an implementation must return at once (hand the envelope to a queue).
/// </summary>
internal interface IOverlayEnvelopeListener
{
    void Sent(OverlayEnvelope envelope);
}
