using System.Text.Json;
using EventSubRelay.Processing;

namespace EventSubRelay.Events;

/// <summary>Turns a committed EventSub notification into the events overlays receive.</summary>
internal interface IOverlayEventMapper
{
    ValueTask<IReadOnlyList<PreparedEvent>> MapAsync(CommittedNotification notification, CancellationToken cancellationToken);
}

/// <summary>
/// Delivers each notification as one event whose type is the EventSub type and whose data is
/// Twitch's <c>event</c> object, unchanged.
/// </summary>
internal sealed class RawEventMapper : IOverlayEventMapper
{
    public ValueTask<IReadOnlyList<PreparedEvent>> MapAsync(CommittedNotification notification, CancellationToken cancellationToken)
    {
        if (notification.BroadcasterUserId is null)
        {
            return ValueTask.FromResult<IReadOnlyList<PreparedEvent>>([]);
        }

        using var payload = JsonDocument.Parse(notification.PayloadJson);
        var data = payload.RootElement.TryGetProperty("event", out var @event) ? @event.Clone() : default;
        PreparedEvent prepared = new(
            notification.MessageId,
            notification.MessageId,
            notification.BroadcasterUserId,
            notification.SubscriptionType,
            IsTest: false,
            notification.MessageTimestamp,
            data);
        return ValueTask.FromResult<IReadOnlyList<PreparedEvent>>([prepared]);
    }
}
