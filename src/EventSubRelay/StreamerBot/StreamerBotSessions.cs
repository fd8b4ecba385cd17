using System.Collections.Concurrent;
using EventSubRelay.Events;
using EventSubRelay.Overlay;

namespace EventSubRelay.StreamerBot;

/// <summary>
/// The authenticated Streamer.bot sockets of this instance, by broadcaster, each with where it joined. It hears
/// every envelope the hub's groups get here (those this instance sends and, with several instances, those the
/// backplane gives it and catches up after an outage) and hands it to the broadcaster's sockets' queues without
/// waiting.
/// </summary>
internal sealed class StreamerBotSessions(OverlaySequencer sequencer) : IOverlayEnvelopeListener
{
    // Each socket with its join horizon: the catch-up after a backplane outage owes it only the events above it.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<StreamerBotSession, long>> _byBroadcaster = new(StringComparer.Ordinal);

    /// <summary>
    /// Adds the socket in the broadcaster's turn, as a hub connection joins: every event after its horizon reaches
    /// it live or, after a backplane outage, in the catch-up, and none before it does that way.
    /// </summary>
    public async Task AddAsync(StreamerBotSession session, CancellationToken cancellationToken)
    {
        var broadcaster = session.Identity!.BroadcasterUserId;
        using var turn = await sequencer.JoinTurnAsync(broadcaster, cancellationToken);
        var horizon = await turn.ReadHorizonAsync(cancellationToken);
        _byBroadcaster.GetOrAdd(broadcaster, _ => new())[session] = horizon;
    }

    public void Remove(StreamerBotSession session)
    {
        if (session.Identity is { } identity && _byBroadcaster.TryGetValue(identity.BroadcasterUserId, out var sessions))
        {
            sessions.TryRemove(session, out _);
        }
    }

    public IEnumerable<StreamerBotSession> All => _byBroadcaster.Values.SelectMany(s => s.Keys);

    public void Sent(OverlayEnvelope envelope)
    {
        if (_byBroadcaster.TryGetValue(envelope.BroadcasterUserId, out var sessions))
        {
            foreach (var session in sessions.Keys)
            {
                session.Offer(envelope);
            }
        }
    }

    public void CaughtUp(OverlayEnvelope envelope)
    {
        if (_byBroadcaster.TryGetValue(envelope.BroadcasterUserId, out var sessions))
        {
            foreach (var (session, horizon) in sessions)
            {
                if (envelope.Seq > horizon)
                {
                    session.Offer(envelope);
                }
            }
        }
    }

    public long? JoinedAfter(string broadcasterUserId)
    {
        long? lowest = null;
        if (_byBroadcaster.TryGetValue(broadcasterUserId, out var sessions))
        {
            // Enumerating takes no lock, unlike Values: this runs for every event the backplane brings.
            foreach (var (_, horizon) in sessions)
            {
                lowest = Math.Min(lowest ?? long.MaxValue, horizon);
            }
        }

        return lowest;
    }

    public IReadOnlyCollection<string> Broadcasters() => [.. _byBroadcaster.Where(b => !b.Value.IsEmpty).Select(b => b.Key)];
}
