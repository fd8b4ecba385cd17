using System.Collections.Concurrent;
using EventSubRelay.Events;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Overlay;

/// <summary>
/// The overlay connections of this instance and what each subscribed to. Joining and leaving the broadcaster's
/// groups, and replaying what a connection missed, happen in the broadcaster's turn (<see cref="OverlaySequencer"/>),
/// so every missed event arrives before any live one and none twice.
/// </summary>
internal sealed class OverlaySubscriptions(
    IHubContext<OverlayHub> hub,
    OverlaySequencer sequencer,
    OverlayEventStore store,
    IOptions<OverlayOptions> options,
    TimeProvider time)
{
    /// <summary>The most event types one connection may subscribe to (there are fewer than 100).</summary>
    public const int MaxTypesPerConnection = 200;

    /// <summary>How long a connection may take to receive its replay before it is left out of it.</summary>
    private static readonly TimeSpan ReplaySendTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How many missed events one query of a catch-up reads.</summary>
    private const int CatchUpPage = 500;

    private readonly ConcurrentDictionary<string, OverlayConnection> _connections = new(StringComparer.Ordinal);
    private readonly Lock _countsLock = new();
    private readonly Dictionary<string, int> _perBroadcaster = new(StringComparer.Ordinal);

    public OverlayConnection Connect(HubCallerContext context, long? resumeAfter)
    {
        var user = context.User!;
        var connection = new OverlayConnection(
            context,
            user.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)!.Value,
            Guid.Parse(user.FindFirst(OverlayTokenAuthentication.TokenIdClaim)!.Value),
            user.FindFirst(OverlayTokenAuthentication.TokenNameClaim)!.Value,
            time.GetUtcNow(),
            resumeAfter);
        _connections[connection.Id] = connection;
        lock (_countsLock)
        {
            _perBroadcaster[connection.BroadcasterUserId] = _perBroadcaster.GetValueOrDefault(connection.BroadcasterUserId) + 1;
        }

        return connection;
    }

    public void Disconnect(string connectionId)
    {
        if (_connections.TryRemove(connectionId, out var connection))
        {
            lock (_countsLock)
            {
                if (--_perBroadcaster[connection.BroadcasterUserId] == 0)
                {
                    _perBroadcaster.Remove(connection.BroadcasterUserId);
                }
            }
        }
    }

    /// <summary>Whether the broadcaster has overlays connected to this instance.</summary>
    public bool HasConnections(string broadcasterUserId)
    {
        lock (_countsLock)
        {
            return _perBroadcaster.ContainsKey(broadcasterUserId);
        }
    }

    /// <summary>The broadcasters with overlays connected to this instance.</summary>
    public IReadOnlyList<string> Broadcasters()
    {
        lock (_countsLock)
        {
            return [.. _perBroadcaster.Keys];
        }
    }

    public OverlayConnection Get(string connectionId) =>
        _connections.TryGetValue(connectionId, out var connection) ? connection : throw new HubException("The connection is closing.");

    public IReadOnlyList<OverlayConnection> All() => [.. _connections.Values];

    /// <summary>The token ids of the live connections.</summary>
    public IReadOnlyCollection<Guid> TokenIds() => [.. _connections.Values.Select(c => c.TokenId).Distinct()];

    /// <summary>Ends every connection made with one of these tokens; returns how many.</summary>
    public int Abort(IReadOnlySet<Guid> tokenIds) => Abort(_connections.Values.Where(c => tokenIds.Contains(c.TokenId)));

    /// <summary>
    /// Joins the groups of the types not yet subscribed, then replays what the connection missed if it asked to
    /// resume before subscribing (<c>?afterSeq=</c> or an early <c>Resume</c>). Returns the types subscribed now.
    /// </summary>
    public async Task<string[]> SubscribeAsync(OverlayConnection connection, string[] types, CancellationToken cancellationToken)
    {
        using var turn = await sequencer.JoinTurnAsync(connection.BroadcasterUserId, cancellationToken);
        var joined = new List<string>();
        try
        {
            foreach (var type in types)
            {
                if (await JoinAsync(connection, type, cancellationToken))
                {
                    joined.Add(type);
                }
            }

            // Read once all joins are done, so it covers every event the connection was too late for.
            if (joined.Count > 0)
            {
                connection.Began(joined, await turn.ReadHorizonAsync(cancellationToken));
            }
        }
        catch
        {
            // Without a horizon the subscriptions could not be resumed exactly: undo them, the client may retry.
            foreach (var type in Enumerable.Reverse(joined))
            {
                await LeaveAsync(connection, type, CancellationToken.None);
            }

            throw;
        }

        if (connection.TakePendingResume() is { } afterSeq)
        {
            await SendMissedAsync(connection, afterSeq, cancellationToken);
        }

        return types;
    }

    /// <summary>Leaves the groups of these types; returns the types that were subscribed.</summary>
    public async Task<string[]> UnsubscribeAsync(OverlayConnection connection, string[] types, CancellationToken cancellationToken)
    {
        using var turn = await sequencer.JoinTurnAsync(connection.BroadcasterUserId, cancellationToken);
        var removed = new List<string>();
        foreach (var type in types)
        {
            if (await LeaveAsync(connection, type, cancellationToken))
            {
                removed.Add(type);
            }
        }

        return [.. removed];
    }

    /// <summary>
    /// Sends, in order, the events of the current subscriptions with a sequence number above
    /// <paramref name="afterSeq"/> that the connection has not received, within the replay limits.
    /// </summary>
    public async Task<ResumeResult> ResumeAsync(OverlayConnection connection, long afterSeq, CancellationToken cancellationToken)
    {
        if (connection.DeferResume(afterSeq))
        {
            // Nothing subscribed yet: the replay happens with the first subscription.
            return new ResumeResult(0, 0);
        }

        using var turn = await sequencer.JoinTurnAsync(connection.BroadcasterUserId, cancellationToken);
        return await SendMissedAsync(connection, afterSeq, cancellationToken);
    }

    /// <summary>
    /// Sends each of the broadcaster's connections, and offers the <paramref name="listeners"/>, in order, the stored
    /// events they should have received live but that never reached this instance (the backplane was away), skipping
    /// every event this instance gave them already. In the broadcaster's turn, so live events wait behind it and none
    /// goes out twice. Returns how many events were caught up.
    /// </summary>
    /// <remarks>
    /// A connection should have received live every event of its types above where its subscription began
    /// (<see cref="OverlayConnection.Began"/>), a listener's connection every event above where it joined
    /// (<see cref="IOverlayEnvelopeListener.JoinedAfter"/>), so one read covers both: from the lowest of those,
    /// of every type when any listener is there. Events older than the replay window (or their type's freshness)
    /// are left out, as a resume leaves them out; the count limit of a resume does not apply. A connection that
    /// cannot take what it missed in time is closed, so it reconnects and resumes.
    /// </remarks>
    public async Task<int> CatchUpAsync(string broadcasterUserId, IReadOnlyList<IOverlayEnvelopeListener> listeners, CancellationToken cancellationToken)
    {
        using var turn = await sequencer.JoinTurnAsync(broadcasterUserId, cancellationToken);
        var connections = _connections.Values
            .Where(c => c.BroadcasterUserId == broadcasterUserId)
            .Select(c => (Connection: c, Subscriptions: c.Snapshot()))
            .Where(c => c.Subscriptions.Count > 0)
            .ToList();
        var listening = listeners.Select(l => (Listener: l, After: l.JoinedAfter(broadcasterUserId))).Where(l => l.After is not null).ToList();
        if (connections.Count == 0 && listening.Count == 0)
        {
            return 0;
        }

        var subscriptions = connections.SelectMany(c => c.Subscriptions).ToList();
        var from = subscriptions.Select(s => s.UpTo).Concat(listening.Select(l => l.After!.Value)).Min();
        var (after, delivered) = turn.DeliveredSince(from) ?? (from, []);
        string[]? types = listening.Count > 0 || subscriptions.Any(s => s.Type == OverlayGroups.AllTypes)
            ? null
            : [.. subscriptions.Select(s => s.Type).Distinct(StringComparer.Ordinal)];
        var limits = options.Value.ToReplayLimits();
        var caughtUp = 0;
        while (true)
        {
            var page = await store.UndeliveredAsync(broadcasterUserId, after, delivered, types, limits, CatchUpPage, cancellationToken);
            await Task.WhenAll(connections.Select(c => SendOrCloseAsync(c.Connection, [.. page.Where(e => ReceivesLive(c.Subscriptions, e))], cancellationToken)));
            foreach (var envelope in page)
            {
                foreach (var (listener, _) in listening)
                {
                    listener.CaughtUp(envelope);
                }

                turn.Sent(envelope.Seq);
            }

            caughtUp += page.Count;
            if (page.Count < CatchUpPage)
            {
                return caughtUp;
            }

            after = page[^1].Seq;
        }
    }

    /// <summary>The broadcaster's most recent events, oldest first (all types when <paramref name="types"/> is null).</summary>
    public Task<IReadOnlyList<OverlayEnvelope>> RecentAsync(OverlayConnection connection, int count, string[]? types, CancellationToken cancellationToken) =>
        store.RecentAsync(connection.BroadcasterUserId, count, types, cancellationToken);

    private async Task<ResumeResult> SendMissedAsync(OverlayConnection connection, long afterSeq, CancellationToken cancellationToken)
    {
        var (missed, skipped) = await store.MissedAsync(connection.BroadcasterUserId, afterSeq, connection.Snapshot(), options.Value.ToReplayLimits(), cancellationToken);
        // A reading client takes its replay at its own pace; one too slow to take it must not hold up the
        // broadcaster's live events.
        using var patience = UnreadOutputLimit.AllowWaiting();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplaySendTimeout);
        var client = hub.Clients.Client(connection.Id);
        foreach (var envelope in missed)
        {
            await client.SendAsync(OverlayClientMethods.Event, envelope, timeout.Token);
        }

        return new ResumeResult(missed.Count, skipped);
    }

    /// <summary>Whether a connection with these subscriptions receives the event live: it is above the start of every subscription that covers it.</summary>
    private static bool ReceivesLive(IReadOnlyList<(string Type, long UpTo)> subscriptions, OverlayEnvelope envelope)
    {
        var covered = false;
        foreach (var (type, upTo) in subscriptions)
        {
            if (type == OverlayGroups.AllTypes || type == envelope.Event.Type)
            {
                if (envelope.Seq <= upTo)
                {
                    return false;
                }

                covered = true;
            }
        }

        return covered;
    }

    private async Task SendOrCloseAsync(OverlayConnection connection, IReadOnlyList<OverlayEnvelope> envelopes, CancellationToken cancellationToken)
    {
        if (envelopes.Count == 0)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplaySendTimeout);
        var client = hub.Clients.Client(connection.Id);
        try
        {
            foreach (var envelope in envelopes)
            {
                await client.SendAsync(OverlayClientMethods.Event, envelope, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Too slow to take what it missed: it reconnects and resumes instead of holding up the broadcaster.
            connection.Abort();
        }
    }

    /// <summary>Joins the type's group unless already subscribed; true when it joined (<see cref="OverlayConnection.Began"/> follows).</summary>
    private async Task<bool> JoinAsync(OverlayConnection connection, string type, CancellationToken cancellationToken)
    {
        var broadcaster = connection.BroadcasterUserId;
        if (type == OverlayGroups.AllTypes)
        {
            if (!connection.TryAddAll())
            {
                return false;
            }

            // The "all" group replaces the type groups, so no event reaches the connection twice.
            foreach (var single in connection.SingleTypes())
            {
                await hub.Groups.RemoveFromGroupAsync(connection.Id, OverlayGroups.For(broadcaster, single), cancellationToken);
            }

            await hub.Groups.AddToGroupAsync(connection.Id, OverlayGroups.For(broadcaster, OverlayGroups.AllTypes), cancellationToken);
            return true;
        }

        if (!connection.TryAddType(type, MaxTypesPerConnection))
        {
            return false;
        }

        if (!connection.SubscribedToAll)
        {
            await hub.Groups.AddToGroupAsync(connection.Id, OverlayGroups.For(broadcaster, type), cancellationToken);
        }

        return true;
    }

    private async Task<bool> LeaveAsync(OverlayConnection connection, string type, CancellationToken cancellationToken)
    {
        var broadcaster = connection.BroadcasterUserId;
        if (type == OverlayGroups.AllTypes)
        {
            if (!connection.TryRemoveAll())
            {
                return false;
            }

            await hub.Groups.RemoveFromGroupAsync(connection.Id, OverlayGroups.For(broadcaster, OverlayGroups.AllTypes), cancellationToken);
            foreach (var single in connection.SingleTypes())
            {
                await hub.Groups.AddToGroupAsync(connection.Id, OverlayGroups.For(broadcaster, single), cancellationToken);
            }

            return true;
        }

        if (!connection.TryRemoveType(type))
        {
            return false;
        }

        if (!connection.SubscribedToAll)
        {
            await hub.Groups.RemoveFromGroupAsync(connection.Id, OverlayGroups.For(broadcaster, type), cancellationToken);
        }

        return true;
    }

    private static int Abort(IEnumerable<OverlayConnection> connections)
    {
        var aborted = 0;
        foreach (var connection in connections)
        {
            connection.Abort();
            aborted++;
        }

        return aborted;
    }
}

/// <summary>The answer to <c>Resume</c>: how many missed events were sent, and how many the replay limits left out.</summary>
public sealed record ResumeResult(int Replayed, int Skipped);

/// <summary>
/// One overlay connection: whose it is, what it subscribed to and where each subscription began (which bounds
/// what a resume may replay without repeating live events), and the last alert it reported as shown. Hub calls
/// change it while the status publisher reads it.
/// </summary>
/// <param name="resumeAfter">Where to resume from once the connection subscribes (<c>?afterSeq=</c>).</param>
internal sealed class OverlayConnection(HubCallerContext context, string broadcasterUserId, Guid tokenId, string tokenName, DateTimeOffset connectedAt, long? resumeAfter)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _types = new(StringComparer.Ordinal);
    private long? _all;

    // Set by ?afterSeq= or a Resume before any subscription; taken by the first subscription.
    private long? _pendingResumeAfter = resumeAfter;

    public string Id => context.ConnectionId;
    public string BroadcasterUserId => broadcasterUserId;
    public Guid TokenId => tokenId;
    public string TokenName => tokenName;
    public DateTimeOffset ConnectedAt => connectedAt;

    /// <summary>The last alert the overlay reported as shown (<c>Ack</c>).</summary>
    public (string Id, DateTimeOffset At)? LastAck { get; set; }

    public bool SubscribedToAll
    {
        get { lock (_lock) { return _all is not null; } }
    }

    public void Abort() => context.Abort();

    /// <summary>The subscriptions and where each began.</summary>
    public IReadOnlyList<(string Type, long UpTo)> Snapshot()
    {
        lock (_lock)
        {
            var entries = _types.Select(t => (t.Key, t.Value)).ToList();
            if (_all is { } all)
            {
                entries.Add((OverlayGroups.AllTypes, all));
            }

            return entries;
        }
    }

    /// <summary>Sets where the just-joined subscriptions began (<see cref="OverlaySequencer.Turn.ReadHorizonAsync"/>).</summary>
    public void Began(IEnumerable<string> joined, long upTo)
    {
        lock (_lock)
        {
            foreach (var type in joined)
            {
                if (type == OverlayGroups.AllTypes)
                {
                    _all = upTo;
                }
                else
                {
                    _types[type] = upTo;
                }
            }
        }
    }

    /// <summary>Keeps <paramref name="afterSeq"/> for the first subscription; false (nothing kept) when there is one already.</summary>
    public bool DeferResume(long afterSeq)
    {
        lock (_lock)
        {
            if (_all is not null || _types.Count > 0)
            {
                return false;
            }

            _pendingResumeAfter = afterSeq;
            return true;
        }
    }

    public long? TakePendingResume()
    {
        lock (_lock)
        {
            var pending = _pendingResumeAfter;
            _pendingResumeAfter = null;
            return pending;
        }
    }

    internal string[] SingleTypes()
    {
        lock (_lock)
        {
            return [.. _types.Keys];
        }
    }

    internal bool TryAddAll()
    {
        lock (_lock)
        {
            if (_all is not null)
            {
                return false;
            }

            _all = 0;
            return true;
        }
    }

    internal bool TryRemoveAll()
    {
        lock (_lock)
        {
            var had = _all is not null;
            _all = null;
            return had;
        }
    }

    internal bool TryAddType(string type, int maxTypes)
    {
        lock (_lock)
        {
            if (_types.ContainsKey(type))
            {
                return false;
            }

            if (_types.Count >= maxTypes)
            {
                throw new HubException($"A connection may subscribe to at most {maxTypes} event types.");
            }

            _types[type] = 0;
            return true;
        }
    }

    internal bool TryRemoveType(string type)
    {
        lock (_lock)
        {
            return _types.Remove(type);
        }
    }
}
