using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Overlay;

/// <summary>
/// Sends events to overlay groups, one batch at a time and in sequence order. Joining a group goes
/// through the same gate, so a joining client learns exactly which events it missed (those up to
/// <see cref="JoinHorizonAsync"/>) and receives every later one live: no gap, and on a single instance no duplicate.
/// </summary>
/// <param name="sharedGroups">Whether other instances send to the same groups (the Redis backplane).</param>
/// <param name="listeners">Hear each envelope after its send (other endpoints than the hub).</param>
internal sealed class OverlayFanOut(IHubContext<OverlayHub> hub, OverlayReplay replay, bool sharedGroups, IEnumerable<IOverlayEnvelopeListener> listeners) : IDisposable
{
    private readonly IOverlayEnvelopeListener[] _listeners = [.. listeners];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The highest sequence number sent so far by this instance.</summary>
    public long LastSentSeq { get; private set; }

    /// <summary>Completes once undelivered events from before the last shutdown have been sent.</summary>
    public Task Ready => _ready.Task;

    public void MarkReady(long lastSentSeq)
    {
        LastSentSeq = Math.Max(LastSentSeq, lastSentSeq);
        _ready.TrySetResult();
    }

    /// <summary>
    /// Prepares (stores) and sends a batch with joins paused, so that a joining client either finds an
    /// event in its replay or receives it live, never both and never neither. <paramref name="sent"/> hears of
    /// each envelope once it has gone out, so a caller retrying a failed send knows what not to send again.
    /// </summary>
    public async Task<IReadOnlyList<OverlayEnvelope>> SendAsync(
        Func<CancellationToken, Task<IReadOnlyList<OverlayEnvelope>>> prepare, CancellationToken cancellationToken, Action<OverlayEnvelope>? sent = null)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var envelopes = await prepare(cancellationToken);
            foreach (var envelope in envelopes)
            {
                var groups = new[]
                {
                    OverlayGroups.For(envelope.BroadcasterUserId, OverlayGroups.AllTypes),
                    OverlayGroups.For(envelope.BroadcasterUserId, envelope.Event.Type),
                };
                // A connection is never in both groups (see OverlayHub), so nobody receives it twice.
                await hub.Clients.Groups(groups).SendAsync(OverlayClientMethods.Event, envelope, cancellationToken);
                LastSentSeq = Math.Max(LastSentSeq, envelope.Seq);
                foreach (var listener in _listeners)
                {
                    listener.Sent(envelope);
                }

                sent?.Invoke(envelope);
            }

            return envelopes;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The sequence number up to which a connection that has just joined a group of the broadcaster received
    /// nothing live, so that a replay up to it and the live events after it fit without gap. Call it after the
    /// join, inside <see cref="ChangeMembershipAsync"/>.
    /// </summary>
    /// <remarks>
    /// Alone, that is <see cref="LastSentSeq"/>: this instance stores each event before sending it, both with
    /// sending paused, so what it has stored up to there it has sent (the rest of a batch whose send failed has
    /// higher sequence numbers and goes out when the delivery is retried). Other instances' events reach the group through the
    /// backplane, past this gate; they too are stored before they are sent, so the broadcaster's highest stored
    /// sequence number, read after the join, covers every one the connection was too late for. One that another
    /// instance stored just before this read and sends just after the join arrives both live and in the replay:
    /// clients that use several instances drop repeated ids (see docs/overlay-api.md).
    /// </remarks>
    public async Task<long> JoinHorizonAsync(string broadcasterUserId, CancellationToken cancellationToken) =>
        sharedGroups ? Math.Max(LastSentSeq, await replay.LatestSeqAsync(broadcasterUserId, cancellationToken)) : LastSentSeq;

    /// <summary>Runs a change of group membership with sending paused; returns the last sequence number sent before it.</summary>
    public async Task<long> ChangeMembershipAsync(Func<Task> change, CancellationToken cancellationToken)
    {
        await Ready.WaitAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await change();
            return LastSentSeq;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
