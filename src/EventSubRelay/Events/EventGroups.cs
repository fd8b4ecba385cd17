namespace EventSubRelay.Events;

/// <summary>A toggle on the dashboard: an event family, with sub-events a streamer can turn on separately.</summary>
public sealed record EventGroup(string Name, bool AffiliateOnly, IReadOnlyList<SubEvent> SubEvents);

public sealed record SubEvent(string Name, IReadOnlyList<string> Types);

/// <summary>Every event type the relay emits, grouped the way streamers toggle them (regular, then affiliate/partner).</summary>
internal static class EventGroups
{
    public static IReadOnlyList<EventGroup> All { get; } =
    [
        new("Follows", false, [new("Follow", ["Follow"])]),
        new("Raids", false, [new("Raid", ["Raid"])]),
        new("Moderator Status", false, [new("Added", ["ModeratorAdded"]), new("Removed", ["ModeratorRemoved"])]),
        new("User Banned", false, [new("Banned", ["UserBanned"])]),
        new("User Timed Out", false, [new("Timed Out", ["UserTimedOut"])]),
        new("User Unbanned / Timeout Removed", false, [new("Unbanned", ["UserUnbanned"]), new("Timeout Removed", ["TimeoutRemoved"])]),
        new("Chat", false, [new("Message", ["ChatMessage"]), new("First Words", ["FirstWord"]), new("Cleared", ["ChatCleared"]), new("Message Deleted", ["MessageDeleted"])]),
        new("Whispers", false, [new("Whisper", ["Whisper"])]),
        new("Stream", false, [new("Online", ["StreamOnline"]), new("Offline", ["StreamOffline"]), new("Title/Category", ["StreamUpdate"])]),
        new("Shoutouts", false, [new("Given", ["ShoutoutCreated"]), new("Received", ["ShoutoutReceived"])]),
        new("Ads", false, [new("Ad Break", ["AdRun"])]),
        new("Shield Mode", false, [new("Started", ["ShieldModeStarted"]), new("Ended", ["ShieldModeEnded"])]),
        new("Charity", false, [new("Started", ["CharityStarted"]), new("Progress", ["CharityProgress"]), new("Donation", ["CharityDonation"]), new("Stopped", ["CharityStopped"])]),
        new("Other Twitch Events", false, [new("Raw", [EventCatalogue.Raw])]),
        new("Bits/Cheers", true, [new("Cheer", ["Cheer"])]),
        new("Polls", true, [new("Begin", ["PollCreated"]), new("Progress", ["PollUpdated"]), new("End", ["PollCompleted", "PollTerminated", "PollArchived"])]),
        new("Predictions", true, [new("Begin", ["PredictionCreated"]), new("Progress", ["PredictionUpdated"]), new("Lock", ["PredictionLocked"]), new("End", ["PredictionCompleted", "PredictionCanceled"])]),
        new("Rewards/Redemptions", true, [new("Redemption", ["RewardRedemption"]), new("Redemption Updated", ["RewardRedemptionUpdated"]), new("Reward Changes", ["RewardCreated", "RewardUpdated", "RewardDeleted"])]),
        new("Subscriptions", true, [new("New", ["Sub", "ReSub"]), new("Gift", ["GiftSub", "GiftBomb"]), new("End", ["SubscriptionEnded"])]),
        new("Goals", true, [new("Begin", ["GoalBegin"]), new("Progress", ["GoalProgress"]), new("End", ["GoalEnd"])]),
        new("Hype Train", true, [new("Begin", ["HypeTrainStart"]), new("Progress", ["HypeTrainUpdate"]), new("Level Up", ["HypeTrainLevelUp"]), new("End", ["HypeTrainEnd"])]),
        new("VIP", true, [new("Added", ["VipAdded"]), new("Removed", ["VipRemoved"])]),
    ];

    public static IEnumerable<string> Types => All.SelectMany(g => g.SubEvents).SelectMany(s => s.Types);
}
