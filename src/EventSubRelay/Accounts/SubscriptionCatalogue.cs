using EventSubRelay.Twitch;

namespace EventSubRelay.Accounts;

/// <summary>One toggle of the dashboard: an EventSub type at its current version, with the read-only scopes that authorize it.</summary>
internal sealed record SubEvent(string Key, string Name, string Type, string Version, IReadOnlyList<string> Scopes, bool ModeratorCondition = false);

/// <summary>A group of events as the dashboard shows them; affiliate-only groups need an affiliate or partner channel.</summary>
internal sealed record EventGroup(string Key, string Name, bool AffiliateOnly, IReadOnlyList<SubEvent> Events);

/// <summary>
/// The events a streamer can choose (regular and affiliate/partner groups, sub-events toggled separately), at current versions,
/// each with read scopes only. Bans, timeouts and unbans come from <c>channel.moderate</c> v2, whose read scopes replace
/// <c>channel:moderate</c> (a write scope) that <c>channel.ban</c>/<c>channel.unban</c> need.
/// </summary>
internal static class SubscriptionCatalogue
{
    private static readonly string[] ModerateScopes = ["moderator:read:moderators", "moderator:read:blocked_terms", "moderator:read:banned_users"];

    private static readonly string[] ChatScopes = ["user:read:chat", "user:bot"];

    public static readonly IReadOnlyList<EventGroup> Groups =
    [
        new("follows", "Follows", false, [new("follow", "Follow", "channel.follow", "2", ["moderator:read:followers"], ModeratorCondition: true)]),
        new("raids", "Raids", false, [new("raid", "Raid", "channel.raid", "1", [])]),
        new("moderators", "Moderator status", false,
        [
            new("moderator.add", "Added", "channel.moderator.add", "1", ["moderation:read"]),
            new("moderator.remove", "Removed", "channel.moderator.remove", "1", ["moderation:read"]),
        ]),
        // Ban, timeout and unban are actions of one channel.moderate subscription; the mapper tells them apart by `action`.
        new("moderation", "Bans, timeouts and unbans", false, [new("moderate", "Banned, timed out, unbanned", "channel.moderate", "2", ModerateScopes, ModeratorCondition: true)]),
        new("chat", "Chat", false,
        [
            // Read with the app's token: Twitch wants user:read:chat and user:bot from the chatting user (the broadcaster).
            new("chat.message", "Messages (and first words)", "channel.chat.message", "1", ChatScopes),
            new("chat.clear", "Chat cleared", "channel.chat.clear", "1", ChatScopes),
            new("chat.message_delete", "Message deleted", "channel.chat.message_delete", "1", ChatScopes),
        ]),
        new("whispers", "Whispers", false, [new("whisper", "Whisper", "user.whisper.message", "1", ["user:read:whispers"])]),
        new("stream", "Stream", false,
        [
            new("stream.online", "Online", "stream.online", "1", []),
            new("stream.offline", "Offline", "stream.offline", "1", []),
            new("channel.update", "Title / category", "channel.update", "2", []),
        ]),
        new("shoutouts", "Shoutouts", false,
        [
            new("shoutout.create", "Given", "channel.shoutout.create", "1", ["moderator:read:shoutouts"], ModeratorCondition: true),
            new("shoutout.receive", "Received", "channel.shoutout.receive", "1", ["moderator:read:shoutouts"], ModeratorCondition: true),
        ]),
        new("ads", "Ads", false, [new("ad_break", "Ad break", "channel.ad_break.begin", "1", ["channel:read:ads"])]),
        new("shield_mode", "Shield mode", false,
        [
            new("shield_mode.begin", "Started", "channel.shield_mode.begin", "1", ["moderator:read:shield_mode"], ModeratorCondition: true),
            new("shield_mode.end", "Ended", "channel.shield_mode.end", "1", ["moderator:read:shield_mode"], ModeratorCondition: true),
        ]),
        new("charity", "Charity", false,
        [
            new("charity.start", "Started", "channel.charity_campaign.start", "1", ["channel:read:charity"]),
            new("charity.progress", "Progress", "channel.charity_campaign.progress", "1", ["channel:read:charity"]),
            new("charity.donate", "Donation", "channel.charity_campaign.donate", "1", ["channel:read:charity"]),
            new("charity.stop", "Stopped", "channel.charity_campaign.stop", "1", ["channel:read:charity"]),
        ]),
        new("bits", "Bits / cheers", true, [new("cheer", "Cheer", "channel.cheer", "1", ["bits:read"])]),
        new("polls", "Polls", true,
        [
            new("poll.begin", "Begin", "channel.poll.begin", "1", ["channel:read:polls"]),
            new("poll.progress", "Progress", "channel.poll.progress", "1", ["channel:read:polls"]),
            new("poll.end", "End", "channel.poll.end", "1", ["channel:read:polls"]),
        ]),
        new("predictions", "Predictions", true,
        [
            new("prediction.begin", "Begin", "channel.prediction.begin", "1", ["channel:read:predictions"]),
            new("prediction.progress", "Progress", "channel.prediction.progress", "1", ["channel:read:predictions"]),
            new("prediction.lock", "Lock", "channel.prediction.lock", "1", ["channel:read:predictions"]),
            new("prediction.end", "End", "channel.prediction.end", "1", ["channel:read:predictions"]),
        ]),
        new("rewards", "Rewards / redemptions", true,
        [
            new("redemption", "Redemption", "channel.channel_points_custom_reward_redemption.add", "1", ["channel:read:redemptions"]),
            new("redemption.update", "Redemption updated", "channel.channel_points_custom_reward_redemption.update", "1", ["channel:read:redemptions"]),
            new("reward.add", "Reward created", "channel.channel_points_custom_reward.add", "1", ["channel:read:redemptions"]),
            new("reward.update", "Reward updated", "channel.channel_points_custom_reward.update", "1", ["channel:read:redemptions"]),
            new("reward.remove", "Reward deleted", "channel.channel_points_custom_reward.remove", "1", ["channel:read:redemptions"]),
        ]),
        new("subscriptions", "Subscriptions", true,
        [
            new("subscribe", "New", "channel.subscribe", "1", ["channel:read:subscriptions"]),
            new("subscription.message", "Resub", "channel.subscription.message", "1", ["channel:read:subscriptions"]),
            new("subscription.gift", "Gift", "channel.subscription.gift", "1", ["channel:read:subscriptions"]),
            new("subscription.end", "End", "channel.subscription.end", "1", ["channel:read:subscriptions"]),
        ]),
        new("goals", "Goals", true,
        [
            new("goal.begin", "Begin", "channel.goal.begin", "1", ["channel:read:goals"]),
            new("goal.progress", "Progress", "channel.goal.progress", "1", ["channel:read:goals"]),
            new("goal.end", "End", "channel.goal.end", "1", ["channel:read:goals"]),
        ]),
        // v1 was deprecated in January 2026; v2 is the current version.
        new("hype_train", "Hype Train", true,
        [
            new("hype_train.begin", "Begin", "channel.hype_train.begin", "2", ["channel:read:hype_train"]),
            new("hype_train.progress", "Progress", "channel.hype_train.progress", "2", ["channel:read:hype_train"]),
            new("hype_train.end", "End", "channel.hype_train.end", "2", ["channel:read:hype_train"]),
        ]),
        new("vip", "VIP status", true,
        [
            new("vip.add", "Added", "channel.vip.add", "1", ["channel:read:vips"]),
            new("vip.remove", "Removed", "channel.vip.remove", "1", ["channel:read:vips"]),
        ]),
    ];

    public static readonly IReadOnlyDictionary<string, SubEvent> ByKey = Groups.SelectMany(g => g.Events).ToDictionary(e => e.Key);

    private static readonly HashSet<string> AffiliateOnlyKeys = [.. Groups.Where(g => g.AffiliateOnly).SelectMany(g => g.Events).Select(e => e.Key)];

    /// <summary>The chosen events a channel may have: unknown keys and affiliate-only events of regular channels are dropped.</summary>
    public static IReadOnlyList<SubEvent> Allowed(IEnumerable<string> chosenKeys, bool affiliateOrPartner) =>
        [.. chosenKeys.Distinct().Where(k => ByKey.ContainsKey(k) && (affiliateOrPartner || !AffiliateOnlyKeys.Contains(k))).Select(k => ByKey[k])];

    /// <summary>The scopes to request: the union of the chosen events' scopes, nothing more.</summary>
    public static IReadOnlyList<string> Scopes(IEnumerable<SubEvent> events) =>
        [.. events.SelectMany(e => e.Scopes).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Scopes the chosen events need that the token does not carry; non-empty means "re-link needed".</summary>
    public static IReadOnlyList<string> MissingScopes(IEnumerable<SubEvent> events, IEnumerable<string> granted) =>
        [.. Scopes(events).Except(granted)];

    /// <summary>The subscriptions a linked channel wants: one per chosen event, webhook transport to the relay.</summary>
    public static IReadOnlyList<CreateEventSubSubscription> Desired(string broadcasterId, IEnumerable<SubEvent> events, string callback, string secret) =>
        [.. events.Select(e => new CreateEventSubSubscription(
            e.Type,
            e.Version,
            Condition(e, broadcasterId),
            new EventSubTransport("webhook", callback, secret)))];

    /// <summary>The app-wide subscription that tells the relay a user disconnected the app.</summary>
    public static CreateEventSubSubscription AuthorizationRevoke(string clientId, string callback, string secret) =>
        new("user.authorization.revoke", "1", new Dictionary<string, string> { ["client_id"] = clientId }, new EventSubTransport("webhook", callback, secret));

    private static Dictionary<string, string> Condition(SubEvent e, string broadcasterId) =>
        e.Type == "channel.raid" ? new() { ["to_broadcaster_user_id"] = broadcasterId }
        : e.Type.StartsWith("channel.chat.", StringComparison.Ordinal) ? new() { ["broadcaster_user_id"] = broadcasterId, ["user_id"] = broadcasterId }
        : e.Type == "user.whisper.message" ? new() { ["user_id"] = broadcasterId }
        : e.ModeratorCondition ? new() { ["broadcaster_user_id"] = broadcasterId, ["moderator_user_id"] = broadcasterId }
        : new() { ["broadcaster_user_id"] = broadcasterId };
}
