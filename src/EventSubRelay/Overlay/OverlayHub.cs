using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Overlay;

/// <summary>
/// The hub overlay pages connect to. A connection receives nothing until it subscribes, and only
/// ever events of the broadcaster its token belongs to.
/// </summary>
[Authorize(AuthenticationSchemes = OverlayTokenAuthentication.SchemeName)]
internal sealed class OverlayHub(OverlayFanOut fanOut, OverlayReplay replay) : Hub
{
    private const int MaxTypes = 200;
    private const int MaxTypeLength = 100;

    public override Task OnConnectedAsync()
    {
        var state = new ConnectionSubscriptions();
        if (long.TryParse(Context.GetHttpContext()?.Request.Query["afterSeq"], out var afterSeq) && afterSeq >= 0)
        {
            state.PendingResumeAfter = afterSeq;
        }

        Context.Items[typeof(ConnectionSubscriptions)] = state;
        return base.OnConnectedAsync();
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
                foreach (var type in accepted)
                {
                    await JoinAsync(state, broadcaster, type);
                }
            },
            Context.ConnectionAborted);

        if (state.PendingResumeAfter is { } afterSeq)
        {
            state.PendingResumeAfter = null;
            await replay.SendMissedAsync(Clients.Caller, broadcaster, afterSeq, state.Snapshot(), Context.ConnectionAborted);
        }

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

    /// <summary>Sends, in order, the events of the current subscriptions with a sequence number above <paramref name="afterSeq"/> that this connection has not received.</summary>
    public async Task<ResumeResult> Resume(long afterSeq)
    {
        var state = State;
        if (state.IsEmpty)
        {
            // Nothing subscribed yet: the replay happens with the first subscription.
            state.PendingResumeAfter = afterSeq;
            return new ResumeResult(0);
        }

        var sent = await replay.SendMissedAsync(Clients.Caller, Broadcaster, afterSeq, state.Snapshot(), Context.ConnectionAborted);
        return new ResumeResult(sent);
    }

    private ConnectionSubscriptions State => (ConnectionSubscriptions)Context.Items[typeof(ConnectionSubscriptions)]!;

    private string Broadcaster => Context.User!.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)!.Value;

    private async Task JoinAsync(ConnectionSubscriptions state, string broadcaster, string type)
    {
        var upTo = fanOut.LastSentSeq;
        if (type == OverlayGroups.AllTypes)
        {
            if (state.All is not null)
            {
                return;
            }

            // The "all" group replaces the type groups, so no event reaches this connection twice.
            foreach (var single in state.Types.Keys)
            {
                await Groups.RemoveFromGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, single));
            }

            await Groups.AddToGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, OverlayGroups.AllTypes));
            state.All = upTo;
            return;
        }

        if (!state.Types.TryAdd(type, upTo))
        {
            return;
        }

        if (state.All is null)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, type));
        }
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
            state.All = null;
            foreach (var single in state.Types.Keys)
            {
                await Groups.AddToGroupAsync(Context.ConnectionId, OverlayGroups.For(broadcaster, single));
            }

            return true;
        }

        if (!state.Types.Remove(type))
        {
            return false;
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

/// <summary>The answer to <c>Resume</c>: how many missed events were sent.</summary>
public sealed record ResumeResult(int Replayed);

/// <summary>
/// One connection's subscriptions. Each remembers the last sequence number sent before it began,
/// which bounds what a resume may replay without repeating live events.
/// </summary>
internal sealed class ConnectionSubscriptions
{
    public long? All { get; set; }
    public Dictionary<string, long> Types { get; } = new(StringComparer.Ordinal);
    public long? PendingResumeAfter { get; set; }
    public bool IsEmpty => All is null && Types.Count == 0;

    public IReadOnlyList<(string Type, long UpTo)> Snapshot()
    {
        var entries = Types.Select(t => (t.Key, t.Value)).ToList();
        if (All is { } all)
        {
            entries.Add((OverlayGroups.AllTypes, all));
        }

        return entries;
    }
}
