using EventSubRelay.Events;
using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Overlay;

/// <summary>
/// The hub overlay pages connect to. A connection receives nothing until it subscribes, and only ever events of
/// the broadcaster its token belongs to (the token policy is on its endpoint, see <see cref="OverlayExtensions.MapOverlay"/>).
/// The hub checks arguments; <see cref="OverlaySubscriptions"/> does the rest.
/// </summary>
internal sealed class OverlayHub(OverlaySubscriptions subscriptions, TimeProvider time) : Hub
{
    private const int MaxRecentEvents = 100;

    public override Task OnConnectedAsync()
    {
        var afterSeq = long.TryParse(Context.GetHttpContext()?.Request.Query["afterSeq"], out var after) && after >= 0 ? after : (long?)null;
        subscriptions.Connect(Context, afterSeq);
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        subscriptions.Disconnect(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Subscribes to event types (<c>"*"</c> = all); returns the accepted list.</summary>
    public Task<string[]> Subscribe(string[] types) =>
        subscriptions.SubscribeAsync(Connection, HubArguments.Types(types), Context.ConnectionAborted);

    /// <summary>Stops receiving these types; returns the types that were unsubscribed.</summary>
    public Task<string[]> Unsubscribe(string[] types) =>
        subscriptions.UnsubscribeAsync(Connection, HubArguments.Types(types), Context.ConnectionAborted);

    /// <summary>
    /// Sends, in order, the events of the current subscriptions with a sequence number above
    /// <paramref name="afterSeq"/> that this connection has not received, within the replay limits.
    /// </summary>
    public Task<ResumeResult> Resume(long afterSeq) =>
        subscriptions.ResumeAsync(Connection, afterSeq, Context.ConnectionAborted);

    /// <summary>The broadcaster's most recent events (at most 100), oldest first, for event-list widgets.</summary>
    public Task<IReadOnlyList<OverlayEnvelope>> GetRecentEvents(int count, string[]? types)
    {
        if (count is < 1 or > MaxRecentEvents)
        {
            throw new HubException($"count must be between 1 and {MaxRecentEvents}.");
        }

        var filter = types is { Length: > 0 } && !types.Contains(OverlayGroups.AllTypes) ? HubArguments.Types(types) : null;
        return subscriptions.RecentAsync(Connection, count, filter, Context.ConnectionAborted);
    }

    /// <summary>Every event type the relay can emit, grouped like the dashboard's toggles.</summary>
#pragma warning disable CA1822 // SignalR only invokes instance methods.
    public IReadOnlyList<EventGroup> GetEvents() => EventTypes.OverlayEventGroups;
#pragma warning restore CA1822

    /// <summary>Tells the relay an alert has been shown.</summary>
    public void Ack(string id) => Connection.LastAck = (HubArguments.EventId(id), time.GetUtcNow());

    private OverlayConnection Connection => subscriptions.Get(Context.ConnectionId);
}

/// <summary>
/// Bounds on what overlay clients pass to the hub. What they pass is stored, published to the other instances
/// and shown on the dashboard, so names are short and printable; a refusal is a <see cref="HubException"/>,
/// which the client sees and the log records as a warning (see <see cref="OverlayHubLogging"/>).
/// </summary>
internal static class HubArguments
{
    public const int MaxTypes = OverlaySubscriptions.MaxTypesPerConnection;
    public const int MaxTypeLength = 100;
    public const int MaxIdLength = 200;

    /// <summary>Between 1 and <see cref="MaxTypes"/> distinct type names (or <c>"*"</c>), trimmed.</summary>
    public static string[] Types(string[]? types)
    {
        if (types is null || types.Length == 0 || types.Length > MaxTypes)
        {
            throw new HubException($"Pass between 1 and {MaxTypes} event types, or \"*\" for all.");
        }

        var accepted = types.Select(t => t?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToArray();
        if (accepted.Any(t => t.Length == 0 || t.Length > MaxTypeLength || t.Contains('|', StringComparison.Ordinal) || HasControl(t)))
        {
            throw new HubException($"Event types must be names of 1 to {MaxTypeLength} printable characters, without '|'.");
        }

        return accepted;
    }

    /// <summary>An event id as the relay sends them: 1 to <see cref="MaxIdLength"/> printable characters.</summary>
    public static string EventId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && !HasControl(id)
            ? id
            : throw new HubException($"Ack takes the id of an event this connection received (1 to {MaxIdLength} printable characters).");

    private static bool HasControl(string value) => value.Any(char.IsControl);
}
