using System.Text.Json;

namespace EventSubRelay.Events;

/// <summary>A notification known to be committed, as mapping and delivery need it.</summary>
internal sealed record CommittedNotification(
    string MessageId,
    long Seq,
    string SubscriptionType,
    string SubscriptionVersion,
    string? BroadcasterUserId,
    DateTimeOffset MessageTimestamp,
    string PayloadJson);

/// <summary>An overlay event made from a notification; <see cref="Numbered"/> gives it its <see cref="Seq"/>.</summary>
internal sealed record OverlayEvent(
    string Id,
    string NotificationMessageId,
    string BroadcasterUserId,
    string Type,
    bool IsTest,
    DateTimeOffset TimeStamp,
    JsonElement Data,
    long Seq = 0,
    string? DedupKey = null)
{
    /// <summary>Room in the sequence for the events one notification may produce (a chat message and its first-words event, …).</summary>
    public const int PerNotification = 16;

    /// <summary>
    /// The event's sequence number comes from its notification's, which was committed before Twitch got its
    /// answer: the same however often the notification is delivered, and never reused. Events of one
    /// notification follow each other (<paramref name="index"/> below <see cref="PerNotification"/>).
    /// </summary>
    public OverlayEvent Numbered(long notificationSeq, int index) => this with { Seq = notificationSeq * PerNotification + index };

    /// <summary>The event as overlays receive it.</summary>
    public OverlayEnvelope ToEnvelope() => new(Id, Seq, TimeStamp, BroadcasterUserId, IsTest, OverlayEventKind.Twitch(Type), Data);
}

/// <summary>
/// Hears of every committed notification as delivery takes it, in commit order, before it is mapped (say, to
/// act on a revocation). Called on the delivery path: an implementation must return at once.
/// </summary>
internal interface INotificationObserver
{
    void Observe(CommittedNotification notification);
}
