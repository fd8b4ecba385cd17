using System.Text.Json;
using System.Text.Json.Nodes;
using static EventSubRelay.Events.EventCatalogue;

namespace EventSubRelay.Events;

/// <summary>
/// Every EventSub type and version the relay knows, one row each: its dashboard toggle, the read scopes and
/// condition of its subscription, the overlay event types it emits with their <c>GetEvents</c> groups and
/// deduplication keys, its mapping, and how fresh a replayed event of it must be. A type or version not listed
/// here is delivered as <c>Raw</c>. Adding a type: a row here, its mapping (a builder in <see cref="EventCatalogue"/>
/// when it is more than a few fields), a line in <c>docs/events.md</c>, a sample in <c>test-alerts.json</c> for
/// each new overlay type, and a golden case.
/// </summary>
internal static class EventTypes
{
    private static readonly string[] ModerateScopes = ["moderator:read:moderators", "moderator:read:blocked_terms", "moderator:read:banned_users"];

    // Read with the app's token: Twitch wants user:read:chat and user:bot from the chatting user (the broadcaster).
    private static readonly string[] ChatScopes = ["user:read:chat", "user:bot"];

    // The dashboard's groups of toggles, in the order it shows them; affiliate-only groups need an affiliate or partner channel.
    private static readonly DashboardGroup FollowsToggles = new("follows", "Follows", AffiliateOnly: false);
    private static readonly DashboardGroup RaidsToggles = new("raids", "Raids", AffiliateOnly: false);
    private static readonly DashboardGroup ModeratorsToggles = new("moderators", "Moderator status", AffiliateOnly: false);
    private static readonly DashboardGroup ModerationToggles = new("moderation", "Bans, timeouts and unbans", AffiliateOnly: false);
    private static readonly DashboardGroup ChatToggles = new("chat", "Chat", AffiliateOnly: false);
    private static readonly DashboardGroup WhispersToggles = new("whispers", "Whispers", AffiliateOnly: false);
    private static readonly DashboardGroup StreamToggles = new("stream", "Stream", AffiliateOnly: false);
    private static readonly DashboardGroup ShoutoutsToggles = new("shoutouts", "Shoutouts", AffiliateOnly: false);
    private static readonly DashboardGroup AdsToggles = new("ads", "Ads", AffiliateOnly: false);
    private static readonly DashboardGroup ShieldModeToggles = new("shield_mode", "Shield mode", AffiliateOnly: false);
    private static readonly DashboardGroup CharityToggles = new("charity", "Charity", AffiliateOnly: false);
    private static readonly DashboardGroup BitsToggles = new("bits", "Bits / cheers", AffiliateOnly: true);
    private static readonly DashboardGroup PollsToggles = new("polls", "Polls", AffiliateOnly: true);
    private static readonly DashboardGroup PredictionsToggles = new("predictions", "Predictions", AffiliateOnly: true);
    private static readonly DashboardGroup RewardsToggles = new("rewards", "Rewards / redemptions", AffiliateOnly: true);
    private static readonly DashboardGroup SubscriptionsToggles = new("subscriptions", "Subscriptions", AffiliateOnly: true);
    private static readonly DashboardGroup GoalsToggles = new("goals", "Goals", AffiliateOnly: true);
    private static readonly DashboardGroup HypeTrainToggles = new("hype_train", "Hype Train", AffiliateOnly: true);
    private static readonly DashboardGroup VipToggles = new("vip", "VIP status", AffiliateOnly: true);

    /// <summary>The dashboard's groups in the order it shows them.</summary>
    public static IReadOnlyList<DashboardGroup> DashboardGroups { get; } = [FollowsToggles, RaidsToggles, ModeratorsToggles, ModerationToggles, ChatToggles, WhispersToggles, StreamToggles, ShoutoutsToggles, AdsToggles, ShieldModeToggles, CharityToggles, BitsToggles, PollsToggles, PredictionsToggles, RewardsToggles, SubscriptionsToggles, GoalsToggles, HypeTrainToggles, VipToggles];

    // The groups of GetEvents (Streamer.bot's), in its order: regular, then affiliate/partner.
    private static readonly OverlayGroup FollowsEvents = new("Follows", AffiliateOnly: false);
    private static readonly OverlayGroup RaidsEvents = new("Raids", AffiliateOnly: false);
    private static readonly OverlayGroup ModeratorStatusEvents = new("Moderator Status", AffiliateOnly: false);
    private static readonly OverlayGroup UserBannedEvents = new("User Banned", AffiliateOnly: false);
    private static readonly OverlayGroup UserTimedOutEvents = new("User Timed Out", AffiliateOnly: false);
    private static readonly OverlayGroup UserUnbannedEvents = new("User Unbanned / Timeout Removed", AffiliateOnly: false);
    private static readonly OverlayGroup ChatEvents = new("Chat", AffiliateOnly: false);
    private static readonly OverlayGroup WhispersEvents = new("Whispers", AffiliateOnly: false);
    private static readonly OverlayGroup StreamEvents = new("Stream", AffiliateOnly: false);
    private static readonly OverlayGroup ShoutoutsEvents = new("Shoutouts", AffiliateOnly: false);
    private static readonly OverlayGroup AdsEvents = new("Ads", AffiliateOnly: false);
    private static readonly OverlayGroup ShieldModeEvents = new("Shield Mode", AffiliateOnly: false);
    private static readonly OverlayGroup CharityEvents = new("Charity", AffiliateOnly: false);
    private static readonly OverlayGroup OtherTwitchEventsEvents = new("Other Twitch Events", AffiliateOnly: false);
    private static readonly OverlayGroup BitsEvents = new("Bits/Cheers", AffiliateOnly: true);
    private static readonly OverlayGroup PollsEvents = new("Polls", AffiliateOnly: true);
    private static readonly OverlayGroup PredictionsEvents = new("Predictions", AffiliateOnly: true);
    private static readonly OverlayGroup RewardsEvents = new("Rewards/Redemptions", AffiliateOnly: true);
    private static readonly OverlayGroup SubscriptionsEvents = new("Subscriptions", AffiliateOnly: true);
    private static readonly OverlayGroup GoalsEvents = new("Goals", AffiliateOnly: true);
    private static readonly OverlayGroup HypeTrainEvents = new("Hype Train", AffiliateOnly: true);
    private static readonly OverlayGroup VIPEvents = new("VIP", AffiliateOnly: true);

    private static readonly OverlayGroup[] OverlayGroupOrder = [FollowsEvents, RaidsEvents, ModeratorStatusEvents, UserBannedEvents, UserTimedOutEvents, UserUnbannedEvents, ChatEvents, WhispersEvents, StreamEvents, ShoutoutsEvents, AdsEvents, ShieldModeEvents, CharityEvents, OtherTwitchEventsEvents, BitsEvents, PollsEvents, PredictionsEvents, RewardsEvents, SubscriptionsEvents, GoalsEvents, HypeTrainEvents, VIPEvents];

    /// <summary>What is not mapped goes out as <c>Raw</c>, in a group of its own.</summary>
    private static readonly Emit RawEmit = new(OverlayTypes.Raw, OtherTwitchEventsEvents, "Raw");

    public static IReadOnlyList<EventType> All { get; } =
    [
        new(
            "channel.follow", "2",
            FollowsToggles, "follow", "Follow",
            ["moderator:read:followers"], EventCondition.BroadcasterAsModerator,
            [new(OverlayTypes.Follow, FollowsEvents, "Follow")],
            e => (OverlayTypes.Follow, new JsonObject
            {
                ["userId"] = Id(e, "user_id"),
                ["userName"] = Text(e, "user_login"),
                ["displayName"] = Text(e, "user_name"),
                ["isTest"] = false,
            })),
        new(
            "channel.raid", "1",
            RaidsToggles, "raid", "Raid",
            [], EventCondition.ToBroadcaster,
            [new(OverlayTypes.Raid, RaidsEvents, "Raid")],
            e => (OverlayTypes.Raid, new JsonObject
            {
                ["viewerCount"] = e.GetProperty("viewers").GetInt32(),
                ["profileImage"] = null,
                ["userId"] = Id(e, "from_broadcaster_user_id"),
                ["userName"] = Text(e, "from_broadcaster_user_login"),
                ["displayName"] = Text(e, "from_broadcaster_user_name"),
                ["role"] = Viewer,
            })),
        new(
            "channel.moderator.add", "1",
            ModeratorsToggles, "moderator.add", "Added",
            ["moderation:read"], EventCondition.Broadcaster,
            [new(OverlayTypes.ModeratorAdded, ModeratorStatusEvents, "Added", Dedup.ByUserInWindow)],
            e => (OverlayTypes.ModeratorAdded, User(e, "user"))),
        new(
            "channel.moderator.remove", "1",
            ModeratorsToggles, "moderator.remove", "Removed",
            ["moderation:read"], EventCondition.Broadcaster,
            [new(OverlayTypes.ModeratorRemoved, ModeratorStatusEvents, "Removed", Dedup.ByUserInWindow)],
            e => (OverlayTypes.ModeratorRemoved, User(e, "user"))),
        new(
            "channel.chat.message", "1",
            ChatToggles, "chat.message", "Messages (and first words)",
            ChatScopes, EventCondition.ChatAsBroadcaster,
            [new(OverlayTypes.ChatMessage, ChatEvents, "Message", Dedup.ByField("message", "msgId")), new(OverlayTypes.FirstWord, ChatEvents, "First Words")],
            ChatMessage,
            FreshnessMinutes: 1),
        new(
            "channel.chat.clear", "1",
            ChatToggles, "chat.clear", "Chat cleared",
            ChatScopes, EventCondition.ChatAsBroadcaster,
            [new(OverlayTypes.ChatCleared, ChatEvents, "Cleared", Dedup.InWindow)],
            _ => (OverlayTypes.ChatCleared, new JsonObject())),
        new(
            "channel.chat.message_delete", "1",
            ChatToggles, "chat.message_delete", "Message deleted",
            ChatScopes, EventCondition.ChatAsBroadcaster,
            [new(OverlayTypes.MessageDeleted, ChatEvents, "Message Deleted", Dedup.ByField("msgId"))],
            e => (OverlayTypes.MessageDeleted, User(e, "target_user").With("msgId", Text(e, "message_id")))),
        new(
            "user.whisper.message", "1",
            WhispersToggles, "whisper", "Whisper",
            ["user:read:whispers"], EventCondition.User,
            [new(OverlayTypes.Whisper, WhispersEvents, "Whisper", Dedup.ByField("message", "msgId"))],
            e => (OverlayTypes.Whisper, new JsonObject
            {
                ["message"] = new JsonObject
                {
                    ["msgId"] = Text(e, "whisper_id"),
                    ["userId"] = Id(e, "from_user_id"),
                    ["username"] = Text(e, "from_user_login"),
                    ["displayName"] = Text(e, "from_user_name"),
                    ["message"] = Text(e.GetProperty("whisper"), "text"),
                    ["emotes"] = new JsonArray(),
                },
            }),
            FreshnessMinutes: 1),
        new(
            "stream.online", "1",
            StreamToggles, "stream.online", "Online",
            [], EventCondition.Broadcaster,
            [new(OverlayTypes.StreamOnline, StreamEvents, "Online")],
            e => (OverlayTypes.StreamOnline, new JsonObject { ["id"] = Text(e, "id"), ["type"] = Text(e, "type"), ["startedAt"] = Text(e, "started_at") })),
        new(
            "stream.offline", "1",
            StreamToggles, "stream.offline", "Offline",
            [], EventCondition.Broadcaster,
            [new(OverlayTypes.StreamOffline, StreamEvents, "Offline")],
            _ => (OverlayTypes.StreamOffline, new JsonObject())),
        new(
            "channel.update", "2",
            StreamToggles, "channel.update", "Title / category",
            [], EventCondition.Broadcaster,
            [new(OverlayTypes.StreamUpdate, StreamEvents, "Title/Category")],
            e => (OverlayTypes.StreamUpdate, new JsonObject
            {
                ["channelId"] = Id(e, "broadcaster_user_id"),
                ["channel"] = Text(e, "broadcaster_user_login"),
                ["status"] = Text(e, "title"),
                // Filled from the channel's previous update (see CatalogueMapper).
                ["oldStatus"] = null,
                ["oldGame"] = null,
                ["game"] = Game(Text(e, "category_id"), Text(e, "category_name")),
            })),
        new(
            "channel.shoutout.create", "1",
            ShoutoutsToggles, "shoutout.create", "Given",
            ["moderator:read:shoutouts"], EventCondition.BroadcasterAsModerator,
            [new(OverlayTypes.ShoutoutCreated, ShoutoutsEvents, "Given")],
            e => (OverlayTypes.ShoutoutCreated, User(e, "to_broadcaster_user").With("viewerCount", Int(e, "viewer_count")))),
        new(
            "channel.shoutout.receive", "1",
            ShoutoutsToggles, "shoutout.receive", "Received",
            ["moderator:read:shoutouts"], EventCondition.BroadcasterAsModerator,
            [new(OverlayTypes.ShoutoutReceived, ShoutoutsEvents, "Received")],
            e => (OverlayTypes.ShoutoutReceived, User(e, "from_broadcaster_user").With("viewerCount", Int(e, "viewer_count")))),
        new(
            "channel.ad_break.begin", "1",
            AdsToggles, "ad_break", "Ad break",
            ["channel:read:ads"], EventCondition.Broadcaster,
            [new(OverlayTypes.AdRun, AdsEvents, "Ad Break")],
            e => (OverlayTypes.AdRun, new JsonObject
            {
                ["length"] = Int(e, "duration_seconds"),
                ["scheduled"] = e.GetProperty("is_automatic").GetBoolean(),
            })),
        new(
            "channel.shield_mode.begin", "1",
            ShieldModeToggles, "shield_mode.begin", "Started",
            ["moderator:read:shield_mode"], EventCondition.BroadcasterAsModerator,
            [new(OverlayTypes.ShieldModeStarted, ShieldModeEvents, "Started")],
            e => (OverlayTypes.ShieldModeStarted, new JsonObject { ["moderator"] = Text(e, "moderator_user_name"), ["startedAt"] = Text(e, "started_at") })),
        new(
            "channel.shield_mode.end", "1",
            ShieldModeToggles, "shield_mode.end", "Ended",
            ["moderator:read:shield_mode"], EventCondition.BroadcasterAsModerator,
            [new(OverlayTypes.ShieldModeEnded, ShieldModeEvents, "Ended")],
            e => (OverlayTypes.ShieldModeEnded, new JsonObject { ["moderator"] = Text(e, "moderator_user_name"), ["endedAt"] = Text(e, "ended_at") })),
        new(
            "channel.charity_campaign.start", "1",
            CharityToggles, "charity.start", "Started",
            ["channel:read:charity"], EventCondition.Broadcaster,
            [new(OverlayTypes.CharityStarted, CharityEvents, "Started")],
            e => (OverlayTypes.CharityStarted, Charity(e))),
        new(
            "channel.charity_campaign.progress", "1",
            CharityToggles, "charity.progress", "Progress",
            ["channel:read:charity"], EventCondition.Broadcaster,
            [new(OverlayTypes.CharityProgress, CharityEvents, "Progress")],
            e => (OverlayTypes.CharityProgress, Charity(e))),
        new(
            "channel.charity_campaign.donate", "1",
            CharityToggles, "charity.donate", "Donation",
            ["channel:read:charity"], EventCondition.Broadcaster,
            [new(OverlayTypes.CharityDonation, CharityEvents, "Donation")],
            e => (OverlayTypes.CharityDonation, User(e, "user")
                .With("campaignId", Text(e, "campaign_id")).With("charity", Text(e, "charity_name")).With("amount", Amount(e, "amount")))),
        new(
            "channel.charity_campaign.stop", "1",
            CharityToggles, "charity.stop", "Stopped",
            ["channel:read:charity"], EventCondition.Broadcaster,
            [new(OverlayTypes.CharityStopped, CharityEvents, "Stopped")],
            e => (OverlayTypes.CharityStopped, Charity(e))),
        new(
            "channel.cheer", "1",
            BitsToggles, "cheer", "Cheer",
            ["bits:read"], EventCondition.Broadcaster,
            [new(OverlayTypes.Cheer, BitsEvents, "Cheer", Dedup.ByField("message", "msgId"))],
            Cheer),
        new(
            "channel.poll.begin", "1",
            PollsToggles, "poll.begin", "Begin",
            ["channel:read:polls"], EventCondition.Broadcaster,
            [new(OverlayTypes.PollCreated, PollsEvents, "Begin", Dedup.ByField("id"))],
            e => (OverlayTypes.PollCreated, Poll(e).With("remainingDurationMilliseconds", (Duration(Text(e, "started_at"), Text(e, "ends_at")) ?? 0) * 1000))),
        new(
            "channel.poll.progress", "1",
            PollsToggles, "poll.progress", "Progress",
            ["channel:read:polls"], EventCondition.Broadcaster,
            [new(OverlayTypes.PollUpdated, PollsEvents, "Progress")],
            e => (OverlayTypes.PollUpdated, Poll(e))),
        new(
            "channel.poll.end", "1",
            PollsToggles, "poll.end", "End",
            ["channel:read:polls"], EventCondition.Broadcaster,
            [new(OverlayTypes.PollCompleted, PollsEvents, "End", Dedup.ByField("id")), new(OverlayTypes.PollTerminated, PollsEvents, "End", Dedup.ByField("id")), new(OverlayTypes.PollArchived, PollsEvents, "End", Dedup.ByField("id"))],
            e => (Text(e, "status") switch { "terminated" => OverlayTypes.PollTerminated, "archived" => OverlayTypes.PollArchived, _ => OverlayTypes.PollCompleted }, Poll(e))),
        new(
            "channel.prediction.begin", "1",
            PredictionsToggles, "prediction.begin", "Begin",
            ["channel:read:predictions"], EventCondition.Broadcaster,
            [new(OverlayTypes.PredictionCreated, PredictionsEvents, "Begin", Dedup.ByField("id"))],
            e => (OverlayTypes.PredictionCreated, Prediction(e))),
        new(
            "channel.prediction.progress", "1",
            PredictionsToggles, "prediction.progress", "Progress",
            ["channel:read:predictions"], EventCondition.Broadcaster,
            [new(OverlayTypes.PredictionUpdated, PredictionsEvents, "Progress")],
            e => (OverlayTypes.PredictionUpdated, Prediction(e))),
        new(
            "channel.prediction.lock", "1",
            PredictionsToggles, "prediction.lock", "Lock",
            ["channel:read:predictions"], EventCondition.Broadcaster,
            [new(OverlayTypes.PredictionLocked, PredictionsEvents, "Lock", Dedup.ByField("id"))],
            e => (OverlayTypes.PredictionLocked, Prediction(e))),
        new(
            "channel.prediction.end", "1",
            PredictionsToggles, "prediction.end", "End",
            ["channel:read:predictions"], EventCondition.Broadcaster,
            [new(OverlayTypes.PredictionCompleted, PredictionsEvents, "End", Dedup.ByField("id")), new(OverlayTypes.PredictionCanceled, PredictionsEvents, "End", Dedup.ByField("id"))],
            e => (Text(e, "status") == "canceled" ? OverlayTypes.PredictionCanceled : OverlayTypes.PredictionCompleted, Prediction(e))),
        new(
            "channel.channel_points_custom_reward_redemption.add", "1",
            RewardsToggles, "redemption", "Redemption",
            ["channel:read:redemptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.RewardRedemption, RewardsEvents, "Redemption", Dedup.ByField("id"))],
            e => (OverlayTypes.RewardRedemption, Redemption(e))),
        new(
            "channel.channel_points_custom_reward_redemption.update", "1",
            RewardsToggles, "redemption.update", "Redemption updated",
            ["channel:read:redemptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.RewardRedemptionUpdated, RewardsEvents, "Redemption Updated", Dedup.ByIdAndStatus)],
            e => (OverlayTypes.RewardRedemptionUpdated, Redemption(e))),
        new(
            "channel.channel_points_custom_reward.add", "1",
            RewardsToggles, "reward.add", "Reward created",
            ["channel:read:redemptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.RewardCreated, RewardsEvents, "Reward Changes")],
            e => (OverlayTypes.RewardCreated, Reward(e))),
        new(
            "channel.channel_points_custom_reward.update", "1",
            RewardsToggles, "reward.update", "Reward updated",
            ["channel:read:redemptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.RewardUpdated, RewardsEvents, "Reward Changes")],
            e => (OverlayTypes.RewardUpdated, Reward(e))),
        new(
            "channel.channel_points_custom_reward.remove", "1",
            RewardsToggles, "reward.remove", "Reward deleted",
            ["channel:read:redemptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.RewardDeleted, RewardsEvents, "Reward Changes")],
            e => (OverlayTypes.RewardDeleted, Reward(e))),
        new(
            "channel.subscribe", "1",
            SubscriptionsToggles, "subscribe", "New",
            ["channel:read:subscriptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.Sub, SubscriptionsEvents, "New"), new(OverlayTypes.GiftSub, SubscriptionsEvents, "Gift")],
            e => e.GetProperty("is_gift").GetBoolean()
                ? (OverlayTypes.GiftSub, new JsonObject
                {
                    ["isAnonymous"] = false,
                    ["totalSubsGifted"] = 1,
                    ["cumulativeMonths"] = 1,
                    ["monthsGifted"] = 1,
                    ["fromSubBomb"] = false,
                    ["subBombCount"] = 1,
                    ["recipientUserId"] = Id(e, "user_id"),
                    ["recipientUsername"] = Text(e, "user_login"),
                    ["recipientDisplayName"] = Text(e, "user_name"),
                    ["subTier"] = Tier(e),
                    ["userId"] = null,
                    ["userName"] = null,
                    ["displayName"] = null,
                    ["role"] = Viewer,
                })
                : (OverlayTypes.Sub, new JsonObject
                {
                    ["subTier"] = Tier(e),
                    ["color"] = null,
                    ["emotes"] = new JsonArray(),
                    ["message"] = "",
                    ["userId"] = Id(e, "user_id"),
                    ["userName"] = Text(e, "user_login"),
                    ["displayName"] = Text(e, "user_name"),
                    ["role"] = Viewer,
                })),
        new(
            "channel.subscription.message", "1",
            SubscriptionsToggles, "subscription.message", "Resub",
            ["channel:read:subscriptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.ReSub, SubscriptionsEvents, "New")],
            e => (OverlayTypes.ReSub, new JsonObject
            {
                ["cumulativeMonths"] = Int(e, "cumulative_months"),
                ["shareStreak"] = e.TryGetProperty("streak_months", out var streak) && streak.ValueKind == JsonValueKind.Number,
                ["streakMonths"] = Int(e, "streak_months"),
                ["subTier"] = Tier(e),
                ["color"] = null,
                ["emotes"] = new JsonArray(),
                ["message"] = e.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object ? Text(message, "text") : "",
                ["userId"] = Id(e, "user_id"),
                ["userName"] = Text(e, "user_login"),
                ["displayName"] = Text(e, "user_name"),
                ["role"] = Viewer,
            })),
        new(
            "channel.subscription.gift", "1",
            SubscriptionsToggles, "subscription.gift", "Gift",
            ["channel:read:subscriptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.GiftBomb, SubscriptionsEvents, "Gift"), new(OverlayTypes.GiftSub, SubscriptionsEvents, "Gift")],
            e =>
            {
                var total = Int(e, "total") ?? 1;
                var anonymous = e.TryGetProperty("is_anonymous", out var a) && a.GetBoolean();
                return total > 1
                    ? (OverlayTypes.GiftBomb, new JsonObject
                    {
                        ["isAnonymous"] = anonymous,
                        ["gifts"] = total,
                        ["totalGifts"] = Int(e, "cumulative_total") ?? 0,
                        ["subTier"] = Tier(e),
                        ["userId"] = Id(e, "user_id"),
                        ["userName"] = Text(e, "user_login"),
                        ["displayName"] = Text(e, "user_name"),
                        ["role"] = Viewer,
                    })
                    : (OverlayTypes.GiftSub, new JsonObject
                    {
                        ["isAnonymous"] = anonymous,
                        ["totalSubsGifted"] = Int(e, "cumulative_total") ?? 1,
                        ["cumulativeMonths"] = 1,
                        ["monthsGifted"] = 1,
                        ["fromSubBomb"] = false,
                        ["subBombCount"] = 1,
                        ["recipientUserId"] = null,
                        ["recipientUsername"] = null,
                        ["recipientDisplayName"] = null,
                        ["subTier"] = Tier(e),
                        ["userId"] = Id(e, "user_id"),
                        ["userName"] = Text(e, "user_login"),
                        ["displayName"] = Text(e, "user_name"),
                        ["role"] = Viewer,
                    });
            }),
        new(
            "channel.subscription.end", "1",
            SubscriptionsToggles, "subscription.end", "End",
            ["channel:read:subscriptions"], EventCondition.Broadcaster,
            [new(OverlayTypes.SubscriptionEnded, SubscriptionsEvents, "End")],
            e => (OverlayTypes.SubscriptionEnded, User(e, "user").With("subTier", Tier(e)).With("isGift", e.GetProperty("is_gift").GetBoolean()))),
        new(
            "channel.goal.begin", "1",
            GoalsToggles, "goal.begin", "Begin",
            ["channel:read:goals"], EventCondition.Broadcaster,
            [new(OverlayTypes.GoalBegin, GoalsEvents, "Begin", Dedup.ByField("id"))],
            e => (OverlayTypes.GoalBegin, Goal(e))),
        new(
            "channel.goal.progress", "1",
            GoalsToggles, "goal.progress", "Progress",
            ["channel:read:goals"], EventCondition.Broadcaster,
            [new(OverlayTypes.GoalProgress, GoalsEvents, "Progress")],
            e => (OverlayTypes.GoalProgress, Goal(e))),
        new(
            "channel.goal.end", "1",
            GoalsToggles, "goal.end", "End",
            ["channel:read:goals"], EventCondition.Broadcaster,
            [new(OverlayTypes.GoalEnd, GoalsEvents, "End", Dedup.ByField("id"))],
            e => (OverlayTypes.GoalEnd, Goal(e))),
        new(
            "channel.hype_train.begin", "2",
            HypeTrainToggles, "hype_train.begin", "Begin",
            ["channel:read:hype_train"], EventCondition.Broadcaster,
            [new(OverlayTypes.HypeTrainStart, HypeTrainEvents, "Begin")],
            e => (OverlayTypes.HypeTrainStart, HypeTrain(e, update: false))),
        new(
            "channel.hype_train.progress", "2",
            HypeTrainToggles, "hype_train.progress", "Progress",
            ["channel:read:hype_train"], EventCondition.Broadcaster,
            [new(OverlayTypes.HypeTrainUpdate, HypeTrainEvents, "Progress"), new(OverlayTypes.HypeTrainLevelUp, HypeTrainEvents, "Level Up")],
            e => (OverlayTypes.HypeTrainUpdate, HypeTrain(e, update: true))),
        new(
            "channel.hype_train.end", "2",
            HypeTrainToggles, "hype_train.end", "End",
            ["channel:read:hype_train"], EventCondition.Broadcaster,
            [new(OverlayTypes.HypeTrainEnd, HypeTrainEvents, "End")],
            HypeTrainEnd),
        new(
            "channel.vip.add", "1",
            VipToggles, "vip.add", "Added",
            ["channel:read:vips"], EventCondition.Broadcaster,
            [new(OverlayTypes.VipAdded, VIPEvents, "Added", Dedup.ByUserInWindow)],
            e => (OverlayTypes.VipAdded, User(e, "user"))),
        new(
            "channel.vip.remove", "1",
            VipToggles, "vip.remove", "Removed",
            ["channel:read:vips"], EventCondition.Broadcaster,
            [new(OverlayTypes.VipRemoved, VIPEvents, "Removed", Dedup.ByUserInWindow)],
            e => (OverlayTypes.VipRemoved, User(e, "user"))),
        // Bans, timeouts and unbans come from channel.moderate v2, whose read scopes replace channel:moderate (a write scope)
        // that channel.ban and channel.unban need; the mapping tells its actions apart by `action`. Listed after the
        // single-purpose types so that GetEvents lists their sub-events in their own order.
        new(
            "channel.moderate", "2",
            ModerationToggles, "moderate", "Banned, timed out, unbanned",
            ModerateScopes, EventCondition.BroadcasterAsModerator,
            [new(OverlayTypes.UserBanned, UserBannedEvents, "Banned"), new(OverlayTypes.UserTimedOut, UserTimedOutEvents, "Timed Out"), new(OverlayTypes.UserUnbanned, UserUnbannedEvents, "Unbanned"), new(OverlayTypes.TimeoutRemoved, UserUnbannedEvents, "Timeout Removed"), new(OverlayTypes.ModeratorAdded, ModeratorStatusEvents, "Added", Dedup.ByUserInWindow), new(OverlayTypes.ModeratorRemoved, ModeratorStatusEvents, "Removed", Dedup.ByUserInWindow), new(OverlayTypes.VipAdded, VIPEvents, "Added", Dedup.ByUserInWindow), new(OverlayTypes.VipRemoved, VIPEvents, "Removed", Dedup.ByUserInWindow), new(OverlayTypes.MessageDeleted, ChatEvents, "Message Deleted", Dedup.ByField("msgId")), new(OverlayTypes.ChatCleared, ChatEvents, "Cleared", Dedup.InWindow)],
            Moderate),
        // Mapped when they arrive (subscribed by hand), never offered: they need a write scope.
        new(
            "channel.ban", "1",
            Toggle: null, Key: null, Label: null,
            ["channel:moderate"], EventCondition.Broadcaster,
            [new(OverlayTypes.UserBanned, UserBannedEvents, "Banned"), new(OverlayTypes.UserTimedOut, UserTimedOutEvents, "Timed Out")],
            e => e.GetProperty("is_permanent").GetBoolean()
                ? (OverlayTypes.UserBanned, User(e, "user").With("reason", Text(e, "reason")).With("moderator", Text(e, "moderator_user_name")))
                : (OverlayTypes.UserTimedOut, User(e, "user").With("reason", Text(e, "reason")).With("moderator", Text(e, "moderator_user_name"))
                    .With("duration", Duration(Text(e, "banned_at"), Text(e, "ends_at"))).With("expiresAt", Text(e, "ends_at")))),
        new(
            "channel.unban", "1",
            Toggle: null, Key: null, Label: null,
            ["channel:moderate"], EventCondition.Broadcaster,
            [new(OverlayTypes.UserUnbanned, UserUnbannedEvents, "Unbanned")],
            e => (OverlayTypes.UserUnbanned, User(e, "user").With("moderator", Text(e, "moderator_user_name")))),
        // v1 was deprecated in January 2026; v2 is the current version. v1 notifications are still mapped.
        new(
            "channel.hype_train.begin", "1",
            Toggle: null, Key: null, Label: null,
            ["channel:read:hype_train"], EventCondition.Broadcaster,
            [new(OverlayTypes.HypeTrainStart, HypeTrainEvents, "Begin")],
            e => (OverlayTypes.HypeTrainStart, HypeTrain(e, update: false))),
        new(
            "channel.hype_train.progress", "1",
            Toggle: null, Key: null, Label: null,
            ["channel:read:hype_train"], EventCondition.Broadcaster,
            [new(OverlayTypes.HypeTrainUpdate, HypeTrainEvents, "Progress"), new(OverlayTypes.HypeTrainLevelUp, HypeTrainEvents, "Level Up")],
            e => (OverlayTypes.HypeTrainUpdate, HypeTrain(e, update: true))),
        new(
            "channel.hype_train.end", "1",
            Toggle: null, Key: null, Label: null,
            ["channel:read:hype_train"], EventCondition.Broadcaster,
            [new(OverlayTypes.HypeTrainEnd, HypeTrainEvents, "End")],
            HypeTrainEnd),
    ];

    private static readonly Dictionary<(string Type, string Version), EventType> ByTypeAndVersion = All.ToDictionary(t => (t.Type, t.Version));

    private static readonly Dictionary<string, Emit> EmitByType = All.SelectMany(t => t.Emits).Append(RawEmit).DistinctBy(e => e.Type).ToDictionary(e => e.Type);

    /// <summary>The row of a type and version; null for what the relay does not know (delivered as <c>Raw</c>).</summary>
    public static EventType? Find(string type, string version) => ByTypeAndVersion.GetValueOrDefault((type, version));

    /// <summary>The dashboard's toggles by key: the types a streamer can choose, at their current versions.</summary>
    public static IReadOnlyDictionary<string, EventType> ByKey { get; } = All.Where(t => t.Key is not null).ToDictionary(t => t.Key!);

    /// <summary>
    /// Every overlay event type the relay can emit, grouped the way Streamer.bot's <c>GetEvents</c> lists them
    /// (regular, then affiliate/partner), each type once.
    /// </summary>
    public static IReadOnlyList<EventGroup> OverlayEventGroups { get; } =
    [
        .. OverlayGroupOrder.Select(g => new EventGroup(g.Name, g.AffiliateOnly,
            [.. EmitByType.Values.Where(e => e.Group == g).GroupBy(e => e.SubEvent).Select(s => new SubEvent(s.Key, [.. s.Select(e => e.Type)]))])),
    ];

    /// <summary>Every overlay event type the relay can emit, <c>Raw</c> included, in <see cref="OverlayEventGroups"/> order.</summary>
    public static IEnumerable<string> OverlayEventTypes => OverlayEventGroups.SelectMany(g => g.SubEvents).SelectMany(s => s.Types);

    /// <summary>The deduplication key of an overlay event, or null when its type has none (progress events carry new numbers each time).</summary>
    public static string? DedupKey(string overlayType, JsonObject data, long window) =>
        EmitByType.GetValueOrDefault(overlayType)?.Dedup?.Key(overlayType, data, window);

    /// <summary>The replay freshness defaults, in minutes: for the rows that have one, under their EventSub type and each overlay type they emit.</summary>
    public static IReadOnlyDictionary<string, int> FreshnessMinutes { get; } = All
        .Where(t => t.FreshnessMinutes is not null)
        .SelectMany(t => t.Emits.Select(e => e.Type).Prepend(t.Type).Select(type => (type, t.FreshnessMinutes!.Value)))
        .DistinctBy(f => f.type)
        .ToDictionary(f => f.type, f => f.Value, StringComparer.Ordinal);
}

/// <summary>Maps an EventSub notification's <c>event</c> to an overlay event type and its data.</summary>
internal delegate (string Type, JsonObject Data) EventMapping(JsonElement e);

/// <summary>
/// One EventSub type at one version. <see cref="Toggle"/>, <see cref="Key"/> and <see cref="Label"/> are null for
/// types that are mapped when they arrive but never offered on the dashboard.
/// </summary>
internal sealed record EventType(
    string Type,
    string Version,
    DashboardGroup? Toggle,
    string? Key,
    string? Label,
    IReadOnlyList<string> Scopes,
    EventCondition Condition,
    IReadOnlyList<Emit> Emits,
    EventMapping Map,
    int? FreshnessMinutes = null)
{
    /// <summary>The condition of this type's subscription for one channel.</summary>
    public Dictionary<string, string> ConditionFor(string broadcasterId) => Condition switch
    {
        EventCondition.ToBroadcaster => new() { ["to_broadcaster_user_id"] = broadcasterId },
        EventCondition.ChatAsBroadcaster => new() { ["broadcaster_user_id"] = broadcasterId, ["user_id"] = broadcasterId },
        EventCondition.User => new() { ["user_id"] = broadcasterId },
        EventCondition.BroadcasterAsModerator => new() { ["broadcaster_user_id"] = broadcasterId, ["moderator_user_id"] = broadcasterId },
        _ => new() { ["broadcaster_user_id"] = broadcasterId },
    };
}

/// <summary>The shape of a subscription's condition: whose channel, and as whom Twitch authorizes it.</summary>
internal enum EventCondition
{
    /// <summary><c>broadcaster_user_id</c>.</summary>
    Broadcaster,

    /// <summary><c>broadcaster_user_id</c> and <c>moderator_user_id</c>, both the broadcaster.</summary>
    BroadcasterAsModerator,

    /// <summary><c>to_broadcaster_user_id</c> (raids into the channel).</summary>
    ToBroadcaster,

    /// <summary><c>broadcaster_user_id</c> and <c>user_id</c> (the chatting user), both the broadcaster.</summary>
    ChatAsBroadcaster,

    /// <summary><c>user_id</c> (whispers to the broadcaster).</summary>
    User,
}

/// <summary>A group of the dashboard's toggles; affiliate-only groups need an affiliate or partner channel.</summary>
internal sealed record DashboardGroup(string Key, string Name, bool AffiliateOnly)
{
    /// <summary>The toggles of this group, in the registry's order.</summary>
    public IReadOnlyList<EventType> Events => [.. EventTypes.All.Where(t => t.Toggle == this)];
}

/// <summary>A group of <c>GetEvents</c>.</summary>
internal sealed record OverlayGroup(string Name, bool AffiliateOnly);

/// <summary>An overlay event type a row emits: its <c>GetEvents</c> group and sub-event, and its deduplication key.</summary>
internal sealed record Emit(string Type, OverlayGroup Group, string SubEvent, Dedup? Dedup = null);

/// <summary>
/// A second deduplication key for overlay events with a natural identity, for when Twitch sends the same logical
/// event twice under different message ids.
/// </summary>
/// <remarks>
/// Moderator, VIP, chat-clear and message-delete events come both from their own subscription and from
/// <c>channel.moderate</c>: the same action in the same time window is one event.
/// </remarks>
internal sealed record Dedup(DedupBy By, string Path = "")
{
    /// <summary>The event's id at <paramref name="path"/>.</summary>
    public static Dedup ByField(params string[] path) => new(DedupBy.Field, string.Join('.', path));

    /// <summary>The event's id and its status: each status of one redemption once.</summary>
    public static Dedup ByIdAndStatus { get; } = new(DedupBy.FieldAndStatus, "id");

    /// <summary>The user an action is about, within one time window.</summary>
    public static Dedup ByUserInWindow { get; } = new(DedupBy.FieldInWindow, "userId");

    /// <summary>One per time window.</summary>
    public static Dedup InWindow { get; } = new(DedupBy.Window);

    public string? Key(string type, JsonObject data, long window) => By switch
    {
        DedupBy.Field when Field(data, Path) is { } id => $"{type}:{id}",
        DedupBy.FieldAndStatus when Field(data, Path) is { } id => $"{type}:{id}:{Field(data, "status")}",
        DedupBy.FieldInWindow when Field(data, Path) is { } id => $"{type}:{id}:{window}",
        DedupBy.Window => $"{type}:{window}",
        _ => null,
    };

    private static string? Field(JsonObject data, string path)
    {
        JsonNode? node = data;
        foreach (var name in path.Split('.'))
        {
            node = node?[name];
        }

        return node is JsonValue value ? value.ToJsonString().Trim('"') : null;
    }
}

internal enum DedupBy
{
    Field,
    FieldAndStatus,
    FieldInWindow,
    Window,
}

/// <summary>A group of <c>GetEvents</c> as overlays receive it: a family of event types with sub-events.</summary>
public sealed record EventGroup(string Name, bool AffiliateOnly, IReadOnlyList<SubEvent> SubEvents);

public sealed record SubEvent(string Name, IReadOnlyList<string> Types);
