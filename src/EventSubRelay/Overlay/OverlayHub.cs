using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Overlay;

/// <summary>
/// The hub overlay pages connect to. A connection receives nothing until it subscribes, and only
/// ever events of the broadcaster its token belongs to.
/// </summary>
[Authorize(AuthenticationSchemes = OverlayTokenAuthentication.SchemeName)]
internal sealed class OverlayHub(OverlayFanOut fanOut, OverlayReplay replay, OverlayConnections connections, TimeProvider time) : Hub
{
    private const int MaxTypes = 200;
    private const int MaxTypeLength = 100;
    private const int MaxRecentEvents = 100;

    public override Task OnConnectedAsync()
    {
        var state = new ConnectionSubscriptions
        {
            TokenName = Context.User!.FindFirst(OverlayTokenAuthentication.TokenNameClaim)!.Value,
            ConnectedAt = time.GetUtcNow(),
        };
        if (long.TryParse(Context.GetHttpContext()?.Request.Query["afterSeq"], out var afterSeq) && afterSeq >= 0)
        {
            state.PendingResumeAfter = afterSeq;
        }

        Context.Items[typeof(ConnectionSubscriptions)] = state;
        connections.Add(Context);
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        connections.Remove(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Subscribes to event types (<c>"*"</c> = all); returns the accepted list.</summary>
    public async Task<string[]> Subscribe(string[] types)
    {
        var accepted = Accept(types);
        var state = State;
        var broadcaster = Broadcaster;
        await fanOut.ChangeMembershipAsync(
            async () =>
            {
                var joined = new List<string>();
                foreach (var type in accepted)
                {
                    if (await JoinAsync(state, broadcaster, type))
                    {
                        joined.Add(type);
                    }
                }

                // Read once all joins are done, so it covers every event the connection was too late for.
                if (joined.Count > 0)
                {
                    state.Began(joined, await fanOut.JoinHorizonAsync(broadcaster, Context.ConnectionAborted));
                }

                // Replayed inside the same pause, so every missed event arrives before any live one.
                if (state.PendingResumeAfter is { } afterSeq)
                {
                    state.PendingResumeAfter = null;
                    await SendMissedAsync(state, broadcaster, afterSeq);
                }
            },
            Context.ConnectionAborted);

        return accepted;
    }

    /// <summary>Stops receiving these types; returns the types that were unsubscribed.</summary>
    public async Task<string[]> Unsubscribe(string[] types)
    {
        var accepted = Accept(types);
        var state = State;
        var broadcaster = Broadcaster;
        var removed = new List<string>();
        await fanOut.ChangeMembershipAsync(
            async () =>
            {
                foreach (var type in accepted)
                {
                    if (await LeaveAsync(state, broadcaster, type))
                    {
                        removed.Add(type);
                    }
                }
            },
            Context.ConnectionAborted);
        return [.. removed];
    }

    /// <summary>
    /// Sends, in order, the events of the current subscriptions with a sequence number above
    /// <paramref name="afterSeq"/> that this connection has not received, within the replay limits.
    /// </summary>
    public async Task<ResumeResult> Resume(long afterSeq)
    {
        var state = State;
        if (state.IsEmpty)
        {
            // Nothing subscribed yet: the replay happens with the first subscription.
            state.PendingResumeAfter = afterSeq;
            return new ResumeResult(0, 0);
        }

        var result = new ResumeResult(0, 0);
        await fanOut.ChangeMembershipAsync(async () => result = await SendMissedAsync(state, Broadcaster, afterSeq), Context.ConnectionAborted);
        return result;
    }

    /// <summary>The broadcaster's most recent events (at most 100), oldest first, for event-list widgets.</summary>
    public async Task<IReadOnlyList<OverlayEnvelope>> GetRecentEvents(int count, string[]? types)
    {
        if (count is < 1 or > MaxRecentEvents)
        {
            throw new HubException($"count must be between 1 and {MaxRecentEvents}.");
        }

        var filter = types is { Length: > 0 } && !types.Contains(OverlayGroups.AllTypes) ? Accept(types) : null;
        return await replay.RecentAsync(Broadcaster, count, filter, Context.ConnectionAborted);
    }

    /// <summary>Every event type the relay can emit, grouped like the dashboard's toggles.</summary>
#pragma warning disable CA1822 // SignalR only invokes instance methods.
    public IReadOnlyList<Events.EventGroup> GetEvents() => Events.EventTypes.OverlayEventGroups;
#pragma warning restore CA1822

    /// <summary>Tells the relay an alert has been shown.</summary>
    public void Ack(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 200)
        {
            throw new HubException("Ack takes the id of an event this connection received.");
        }

        State.LastAck = (id, time.GetUtcNow());
    }

    private async Task<ResumeResult> SendMissedAsync(ConnectionSubscriptions state, string broadcaster, long afterSeq)
    {
        var (missed, skipped) = await replay.MissedAsync(broadcaster, afterSeq, state.Snapshot(), Context.ConnectionAborted);
        // A client too slow to take its replay must not hold up everyone else's live events.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Context.ConnectionAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        foreach (var envelope in missed)
        {
            await Clients.Caller.SendAsync(OverlayClientMethods.Event, envelope, timeout.Token);
        }

        return new ResumeResult(missed.Count, skipped);
    }

    private ConnectionSubscriptions State => (ConnectionSubscriptions)Context.Items[typeof(ConnectionSubscriptions)]!;

    private string Broadcaster => Context.User!.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)!.Value;

    /// <summary>Joins the type's group unless already subscribed; true when it joined (<see cref="ConnectionSubscriptions.Began"/> follows).</summary>
    private async Task<bool> JoinAsync(ConnectionSubscriptions state, string broadcaster, string type)
    {
        if (type == OverlayGroups.AllTypes)
        {
            if (state.All is not null)
            {
                return false;
            }

            // The "all" group replaces the type groups, so no event reaches this connection twice.
            foreach (var single in state.Types.Keys)
            {
                await Groups.RemoveFromGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, single));
            }

            await Groups.AddToGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, OverlayGroups.AllTypes));
            lock (state.Types)
            {
                state.All = fanOut.LastSentSeq;
            }

            return true;
        }

        lock (state.Types)
        {
            if (!state.Types.TryAdd(type, fanOut.LastSentSeq))
            {
                return false;
            }
        }

        if (state.All is null)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, type));
        }

        return true;
    }

    private async Task<bool> LeaveAsync(ConnectionSubscriptions state, string broadcaster, string type)
    {
        if (type == OverlayGroups.AllTypes)
        {
            if (state.All is null)
            {
                return false;
            }

            await Groups.RemoveFromGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, OverlayGroups.AllTypes));
            lock (state.Types)
            {
                state.All = null;
            }

            foreach (var single in state.Types.Keys)
            {
                await Groups.AddToGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, single));
            }

            return true;
        }

        lock (state.Types)
        {
            if (!state.Types.Remove(type))
            {
                return false;
            }
        }

        if (state.All is null)
        {
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, type));
        }

        return true;
    }

    private static string[] Accept(string[]? types)
    {
        if (types is null || types.Length == 0 || types.Length > MaxTypes)
        {
            throw new HubException($"Pass between 1 and {MaxTypes} event types, or \"*\" for all.");
        }

        var accepted = types.Select(t => t?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToArray();
        if (accepted.Any(t => t.Length == 0 || t.Length > MaxTypeLength || t.Contains('|', StringComparison.Ordinal)))
        {
            throw new HubException($"Event types must be non-empty names of at most {MaxTypeLength} characters.");
        }

        return accepted;
    }
}

/// <summary>The answer to <c>Resume</c>: how many missed events were sent, and how many the replay limits left out.</summary>
public sealed record ResumeResult(int Replayed, int Skipped);

/// <summary>
/// One connection's subscriptions. Each remembers where it began (<see cref="OverlayFanOut.JoinHorizonAsync"/>),
/// which bounds what a resume may replay without repeating live events.
/// </summary>
internal sealed class ConnectionSubscriptions
{
    public string TokenName { get; init; } = "";
    public DateTimeOffset ConnectedAt { get; init; }
    public (string Id, DateTimeOffset At)? LastAck { get; set; }
    public long? All { get; set; }
    public Dictionary<string, long> Types { get; } = new(StringComparer.Ordinal);
    public long? PendingResumeAfter { get; set; }
    public bool IsEmpty => All is null && Types.Count == 0;

    /// <summary>Sets where the just-joined subscriptions began (see <see cref="OverlayFanOut.JoinHorizonAsync"/>).</summary>
    public void Began(IEnumerable<string> joined, long upTo)
    {
        lock (Types)
        {
            foreach (var type in joined)
            {
                if (type == OverlayGroups.AllTypes)
                {
                    All = upTo;
                }
                else
                {
                    Types[type] = upTo;
                }
            }
        }
    }

    /// <summary>The subscriptions and where each began. Hub calls change them while the status publisher reads them.</summary>
    public IReadOnlyList<(string Type, long UpTo)> Snapshot()
    {
        lock (Types)
        {
            var entries = Types.Select(t => (t.Key, t.Value)).ToList();
            if (All is { } all)
            {
                entries.Add((OverlayGroups.AllTypes, all));
            }

            return entries;
        }
    }
}
