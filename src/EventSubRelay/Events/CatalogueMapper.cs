using System.Text.Json;
using EventSubRelay.Processing;

namespace EventSubRelay.Events;

/// <summary>Maps each notification with <see cref="EventCatalogue"/>; whatever cannot be mapped is still delivered, as <c>Raw</c>.</summary>
internal sealed class CatalogueMapper(ILogger<CatalogueMapper> logger) : IOverlayEventMapper
{
    public ValueTask<IReadOnlyList<PreparedEvent>> MapAsync(CommittedNotification notification, CancellationToken cancellationToken)
    {
        if (notification.BroadcasterUserId is null)
        {
            return ValueTask.FromResult<IReadOnlyList<PreparedEvent>>([]);
        }

        using var payload = JsonDocument.Parse(notification.PayloadJson);
        var @event = payload.RootElement.TryGetProperty("event", out var e) ? e : default;
        (string Type, System.Text.Json.Nodes.JsonObject Data) mapped;
        try
        {
            mapped = EventCatalogue.Map(notification.SubscriptionType, notification.SubscriptionVersion, @event);
        }
        catch (Exception exception) when (exception is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            // A payload that does not look like Twitch documents it: nothing is dropped, it goes out as it came.
            logger.LogWarning(exception, "Notification {MessageId} of type {SubscriptionType} v{SubscriptionVersion} could not be mapped; delivering it as Raw",
                notification.MessageId, notification.SubscriptionType, notification.SubscriptionVersion);
            mapped = EventCatalogue.RawEvent(notification.SubscriptionType, notification.SubscriptionVersion, @event);
        }

        PreparedEvent prepared = new(
            notification.MessageId,
            notification.MessageId,
            notification.BroadcasterUserId,
            mapped.Type,
            IsTest: false,
            notification.MessageTimestamp,
            JsonSerializer.SerializeToElement(mapped.Data));
        return ValueTask.FromResult<IReadOnlyList<PreparedEvent>>([prepared]);
    }
}
