
namespace EventSubRelay.Data;

/// <summary>One EventSub notification as Twitch sent it; <see cref="MessageId"/> is the deduplication key.</summary>
internal sealed class StoredNotification
{
    public required string MessageId { get; set; }
    public long Seq { get; set; }
    public required string SubscriptionId { get; set; }
    public required string SubscriptionType { get; set; }
    public required string SubscriptionVersion { get; set; }
    public string? BroadcasterUserId { get; set; }
    public DateTimeOffset MessageTimestamp { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    public int RetryCount { get; set; }
    /// <summary>The body as Twitch sent it. Stored as text: the relay never queries inside it, so PostgreSQL need not parse it.</summary>
    public required string Payload { get; set; }

    /// <summary>When delivery set it aside because it failed for a reason retrying cannot fix (it then counts as delivered).</summary>
    public DateTimeOffset? DeadLetteredAt { get; set; }

    /// <summary>Why delivery set it aside (the database's error), at most <see cref="MaxDeliveryErrorLength"/> characters.</summary>
    public string? DeliveryError { get; set; }

    public const int MaxDeliveryErrorLength = 1000;

    /// <summary>The instance that committed it (see <c>InstanceLease</c>); whether it is delivered is that instance's <see cref="DeliveryWatermark"/>.</summary>
    public long IngestedBy { get; set; }
}

/// <summary>
/// How far the notifications one instance committed are delivered: every one of them (<see cref="StoredNotification.IngestedBy"/>
/// = <see cref="InstanceKey"/>) with a sequence number up to <see cref="DeliveredThrough"/> is delivered or set aside; those
/// above it may not be. An instance without a row has delivered nothing. One small row per instance, updated once per
/// delivered batch, instead of an update of every notification.
/// </summary>
internal sealed class DeliveryWatermark
{
    public long InstanceKey { get; set; }
    public long DeliveredThrough { get; set; }

    /// <summary>The live instance delivering what a stopped <see cref="InstanceKey"/> left undelivered (the outbox), if any.</summary>
    public long? AdoptedBy { get; set; }
}

/// <summary>An event as overlays receive it, kept for replay and history.</summary>
internal sealed class StoredOverlayEvent
{
    public long Seq { get; set; }
    public required string Id { get; set; }
    public required string NotificationMessageId { get; set; }
    public required string BroadcasterUserId { get; set; }
    public required string Type { get; set; }
    public bool IsTest { get; set; }
    public DateTimeOffset TimeStamp { get; set; }
    /// <summary>The event's data as JSON text (overlays get it as it was sent; PostgreSQL never parses it).</summary>
    public required string Data { get; set; }

    /// <summary>The event's natural identity (a redemption, a chat message, a poll's end), when it has one.</summary>
    public string? DedupKey { get; set; }
}

/// <summary>A secret an overlay page presents to receive one broadcaster's events. Only its hash is stored.</summary>
internal sealed class OverlayToken
{
    public Guid Id { get; set; }
    public required string BroadcasterUserId { get; set; }
    public required string Name { get; set; }
    public required byte[] TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>The last event sent to an overlay token's Streamer.bot-protocol sockets, where its catch-up resumes.</summary>
internal sealed class StreamerBotCursor
{
    public Guid TokenId { get; set; }
    public long LastSeq { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What the relay knows of one EventSub subscription, from Twitch's messages about it.</summary>
internal sealed class EventSubSubscription
{
    public required string Id { get; set; }
    public required string Type { get; set; }
    public required string Version { get; set; }
    public required string Status { get; set; }
    public string? BroadcasterUserId { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>An overlay connection as last published by the instance that holds it, for the status page.</summary>
internal sealed class OverlayConnectionRecord
{
    public required string ConnectionId { get; set; }
    public long InstanceKey { get; set; }
    public required string BroadcasterUserId { get; set; }
    public Guid TokenId { get; set; }
    public required string TokenName { get; set; }
    public DateTimeOffset ConnectedAt { get; set; }
    public string[] SubscribedTypes { get; set; } = [];
    public long[] SubscribedSinceSeq { get; set; } = [];
    public string? LastAckId { get; set; }
    public DateTimeOffset? LastAckAt { get; set; }
    public DateTimeOffset SeenAt { get; set; }
}

/// <summary>What the catalogue remembers of a channel between notifications (title, category, current stream).</summary>
internal sealed class ChannelState
{
    public required string BroadcasterUserId { get; set; }
    public string? Title { get; set; }
    public string? CategoryId { get; set; }
    public string? CategoryName { get; set; }
    public string? StreamId { get; set; }

    /// <summary>The notification that set the title and category, and what they were before it (so a retried notification gets the same answer).</summary>
    public string? UpdateMessageId { get; set; }
    public string? PreviousTitle { get; set; }
    public string? PreviousCategoryId { get; set; }
    public string? PreviousCategoryName { get; set; }
}

/// <summary>A user who has spoken in a channel's stream: the first time is a <c>FirstWord</c>.</summary>
internal sealed class StreamChatter
{
    public required string BroadcasterUserId { get; set; }
    public required string StreamId { get; set; }
    public required string UserId { get; set; }

    /// <summary>The notification of the user's first message in the stream.</summary>
    public string? FirstMessageId { get; set; }
}

/// <summary>The highest level seen for a hype train, so each new level is announced once.</summary>
internal sealed class HypeTrainState
{
    public required string Id { get; set; }
    public required string BroadcasterUserId { get; set; }
    public int Level { get; set; }

    /// <summary>The notification that raised the train to <see cref="Level"/>, and the level before it.</summary>
    public string? RaisedByMessageId { get; set; }
    public int PreviousLevel { get; set; }
}

/// <summary>A gift bomb whose recipients' subscriptions are still arriving; each one claims a gift.</summary>
internal sealed class OpenGiftBomb
{
    public required string Id { get; set; }
    public required string BroadcasterUserId { get; set; }
    public int Tier { get; set; }
    public string? GifterUserId { get; set; }
    public string? GifterLogin { get; set; }
    public string? GifterName { get; set; }
    public bool IsAnonymous { get; set; }
    public int Total { get; set; }
    public int Remaining { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A gifted subscription (by notification) that has claimed one gift of a gift bomb.</summary>
internal sealed class GiftClaim
{
    public required string MessageId { get; set; }
    public required string BombId { get; set; }
}

/// <summary>A streamer's Twitch account linked on the dashboard, with its tokens encrypted by Data Protection.</summary>
internal sealed class LinkedAccount
{
    public required string BroadcasterUserId { get; set; }
    public required string Login { get; set; }
    public required string DisplayName { get; set; }

    /// <summary>Twitch's <c>broadcaster_type</c>: <c>affiliate</c>, <c>partner</c> or empty.</summary>
    public string BroadcasterType { get; set; } = "";
    public string[] Scopes { get; set; } = [];
    public required string ProtectedAccessToken { get; set; }
    public string? ProtectedRefreshToken { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Why the streamer must link again (a refresh Twitch refused); null while the tokens work.</summary>
    public string? RelinkReason { get; set; }

    /// <summary>The sub-events the streamer chose (keys of <c>SubscriptionCatalogue</c>).</summary>
    public string[] ChosenEvents { get; set; } = [];
    public DateTimeOffset LinkedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A wanted subscription the reconciler will not create until the streamer acts, and why.</summary>
internal sealed class SubscriptionBlock
{
    public required string Key { get; set; }
    public string? BroadcasterUserId { get; set; }
    public required string Cause { get; set; }
    public DateTimeOffset At { get; set; }
}
