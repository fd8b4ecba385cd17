using EventSubRelay.Events;
using EventSubRelay.Twitch;

namespace EventSubRelay.Accounts;

/// <summary>
/// The events a streamer can choose and the subscriptions they make, read from the dashboard toggles of
/// <see cref="EventTypes"/> (regular and affiliate/partner groups, each type toggled separately, read scopes only).
/// </summary>
internal static class SubscriptionCatalogue
{
    /// <summary>The dashboard's groups in the order it shows them.</summary>
    public static IReadOnlyList<DashboardGroup> Groups => EventTypes.DashboardGroups;

    public static IReadOnlyDictionary<string, EventType> ByKey => EventTypes.ByKey;

    /// <summary>The chosen events a channel may have: unknown keys and affiliate-only events of regular channels are dropped.</summary>
    public static IReadOnlyList<EventType> Allowed(IEnumerable<string> chosenKeys, bool affiliateOrPartner) =>
        [.. chosenKeys.Distinct().Where(k => ByKey.TryGetValue(k, out var type) && (affiliateOrPartner || !type.Toggle!.AffiliateOnly)).Select(k => ByKey[k])];

    /// <summary>The scopes to request: the union of the chosen events' scopes, nothing more.</summary>
    public static IReadOnlyList<string> Scopes(IEnumerable<EventType> events) =>
        [.. events.SelectMany(e => e.Scopes).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Scopes the chosen events need that the token does not carry; non-empty means "re-link needed".</summary>
    public static IReadOnlyList<string> MissingScopes(IEnumerable<EventType> events, IEnumerable<string> granted) =>
        [.. Scopes(events).Except(granted)];

    /// <summary>The subscriptions a linked channel wants: one per chosen event, webhook transport to the relay.</summary>
    public static IReadOnlyList<CreateEventSubSubscription> Desired(string broadcasterId, IEnumerable<EventType> events, string callback, string secret) =>
        [.. events.Select(e => new CreateEventSubSubscription(
            e.Type,
            e.Version,
            e.ConditionFor(broadcasterId),
            new EventSubTransport("webhook", callback, secret)))];

    /// <summary>The app-wide subscription that tells the relay a user disconnected the app.</summary>
    public static CreateEventSubSubscription AuthorizationRevoke(string clientId, string callback, string secret) =>
        new("user.authorization.revoke", "1", new Dictionary<string, string> { ["client_id"] = clientId }, new EventSubTransport("webhook", callback, secret));
}
