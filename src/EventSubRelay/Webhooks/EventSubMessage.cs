using System.Buffers;
using System.Text;
using System.Text.Json;

namespace EventSubRelay.Webhooks;

/// <summary>The <c>subscription</c> object Twitch sends with every message.</summary>
internal sealed record SubscriptionInfo(string Id, string Type, string Version, string Status, string? BroadcasterUserId);

/// <summary>What a webhook body holds, once it is known to match its message type.</summary>
internal abstract record EventSubMessage(SubscriptionInfo Subscription)
{
    /// <summary>Parses the body of a message of the given type; the error says what is wrong with it.</summary>
    /// <remarks>
    /// This runs for every webhook, so it reads a pooled <see cref="JsonDocument"/> instead of building a
    /// <c>JsonNode</c> tree; a single notification keeps the body's text exactly as Twitch sent it.
    /// </remarks>
    public static bool TryParse(string messageType, ReadOnlyMemory<byte> body, out EventSubMessage? message, out string? error)
    {
        message = null;
        if (StorableJson.CheckEncoding(body.Span) is { } encodingError)
        {
            error = encodingError;
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            error = $"The body is not valid JSON: {exception.Message}";
            return false;
        }

        if (StorableJson.Check(body.Span) is { } storableError)
        {
            document.Dispose();
            error = storableError;
            return false;
        }

        using (document)
        {
            var payload = document.RootElement;
            if (payload.ValueKind != JsonValueKind.Object)
            {
                error = "The body must be a JSON object.";
                return false;
            }

            if (!TryReadSubscription(payload, out var subscription, out error))
            {
                return false;
            }

            switch (messageType)
            {
                case MessageTypes.Verification:
                    if (Text(payload, "challenge") is not { Length: > 0 } challenge)
                    {
                        error = "A webhook_callback_verification message must have a non-empty string 'challenge'.";
                        return false;
                    }

                    message = new VerificationMessage(subscription!, challenge);
                    return true;

                case MessageTypes.Revocation:
                    message = new RevocationMessage(subscription!);
                    return true;

                case MessageTypes.Notification:
                    if (Property(payload, "event", JsonValueKind.Object) is { } single)
                    {
                        // An app-wide subscription (extension Bits transactions: extension_client_id) names no channel;
                        // each of its events names the one it happened in.
                        var channel = subscription!.BroadcasterUserId is null && Text(single, "broadcaster_user_id") is { Length: > 0 } inEvent
                            ? subscription with { BroadcasterUserId = inEvent }
                            : subscription;
                        message = new NotificationMessage(channel, [Encoding.UTF8.GetString(body.Span)]);
                        return true;
                    }

                    if (Property(payload, "events", JsonValueKind.Array) is { } events
                        && events.GetArrayLength() is > 0 and <= StorableJson.MaxEvents
                        && events.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Object))
                    {
                        // Batched types (drop.entitlement.grant) are split: each event is stored and delivered on its own.
                        var subscriptionObject = payload.GetProperty("subscription");
                        var singles = events.EnumerateArray().Select(e => SingleEvent(subscriptionObject, e)).ToList();
                        message = new NotificationMessage(subscription!, singles);
                        return true;
                    }

                    error = $"A notification must have an 'event' object or an 'events' array of 1 to {StorableJson.MaxEvents} objects.";
                    return false;

                default:
                    error = $"Unknown message type '{messageType}'.";
                    return false;
            }
        }
    }

    /// <summary><c>{ "subscription": …, "event": … }</c> for one event of a batched notification.</summary>
    private static string SingleEvent(JsonElement subscription, JsonElement @event)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("subscription");
            subscription.WriteTo(writer);
            writer.WritePropertyName("event");
            @event.WriteTo(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool TryReadSubscription(JsonElement payload, out SubscriptionInfo? subscription, out string? error)
    {
        subscription = null;
        if (Property(payload, "subscription", JsonValueKind.Object) is not { } s)
        {
            error = "The body must have a 'subscription' object.";
            return false;
        }

        var id = Text(s, "id");
        var type = Text(s, "type");
        var version = Text(s, "version");
        var status = Text(s, "status");
        if (id is null || type is null || version is null || status is null)
        {
            error = "The 'subscription' object must have string fields 'id', 'type', 'version' and 'status'.";
            return false;
        }

        if (type.Length > StorableJson.MaxNameLength || version.Length > StorableJson.MaxNameLength || status.Length > StorableJson.MaxNameLength)
        {
            error = $"The subscription's 'type', 'version' and 'status' must be at most {StorableJson.MaxNameLength} characters.";
            return false;
        }

        subscription = new SubscriptionInfo(id, type, version, status, BroadcasterOf(Property(s, "condition", JsonValueKind.Object)));
        error = null;
        return true;
    }

    private static string? BroadcasterOf(JsonElement? condition) =>
        condition is { } c ? Twitch.EventSubCondition.ChannelOf(name => Text(c, name)) : null;

    private static JsonElement? Property(JsonElement o, string name, JsonValueKind kind) =>
        o.TryGetProperty(name, out var value) && value.ValueKind == kind ? value : null;

    private static string? Text(JsonElement o, string name) => Property(o, name, JsonValueKind.String)?.GetString();
}

internal sealed record VerificationMessage(SubscriptionInfo Subscription, string Challenge) : EventSubMessage(Subscription);

internal sealed record RevocationMessage(SubscriptionInfo Subscription) : EventSubMessage(Subscription);

/// <summary>A notification; <see cref="Payloads"/> has one <c>{ subscription, event }</c> JSON text per event.</summary>
internal sealed record NotificationMessage(SubscriptionInfo Subscription, IReadOnlyList<string> Payloads) : EventSubMessage(Subscription);

internal static class MessageTypes
{
    public const string Notification = "notification";
    public const string Verification = "webhook_callback_verification";
    public const string Revocation = "revocation";
}

internal static class TwitchHeaders
{
    public const string MessageId = "Twitch-Eventsub-Message-Id";
    public const string MessageType = "Twitch-Eventsub-Message-Type";
    public const string Timestamp = "Twitch-Eventsub-Message-Timestamp";
    public const string Signature = "Twitch-Eventsub-Message-Signature";
    public const string Retry = "Twitch-Eventsub-Message-Retry";
    public const string SubscriptionType = "Twitch-Eventsub-Subscription-Type";
    public const string SubscriptionVersion = "Twitch-Eventsub-Subscription-Version";
}
