using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventSubRelay.Webhooks;

/// <summary>The <c>subscription</c> object Twitch sends with every message.</summary>
internal sealed record SubscriptionInfo(string Id, string Type, string Version, string Status, string? BroadcasterUserId);

/// <summary>What a webhook body holds, once it is known to match its message type.</summary>
internal abstract record EventSubMessage(SubscriptionInfo Subscription)
{
    /// <summary>Parses the body of a message of the given type; the error says what is wrong with it.</summary>
    public static bool TryParse(string messageType, ReadOnlySpan<byte> body, out EventSubMessage? message, out string? error)
    {
        message = null;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException exception)
        {
            error = $"The body is not valid JSON: {exception.Message}";
            return false;
        }

        if (root is not JsonObject payload)
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
                if (payload["challenge"] is not JsonValue challenge || !challenge.TryGetValue<string>(out var challengeText) || challengeText.Length == 0)
                {
                    error = "A webhook_callback_verification message must have a non-empty string 'challenge'.";
                    return false;
                }

                message = new VerificationMessage(subscription!, challengeText);
                return true;

            case MessageTypes.Revocation:
                message = new RevocationMessage(subscription!);
                return true;

            case MessageTypes.Notification:
                if (payload["event"] is JsonObject)
                {
                    message = new NotificationMessage(subscription!, [System.Text.Encoding.UTF8.GetString(body)]);
                    return true;
                }

                if (payload["events"] is JsonArray { Count: > 0 } events && events.All(e => e is JsonObject))
                {
                    // Batched types (drop.entitlement.grant) are split: each event is stored and delivered on its own.
                    var singles = events.Select(e => new JsonObject
                    {
                        ["subscription"] = payload["subscription"]!.DeepClone(),
                        ["event"] = e!.DeepClone(),
                    }.ToJsonString()).ToList();
                    message = new NotificationMessage(subscription!, singles);
                    return true;
                }

                error = "A notification must have an 'event' object or a non-empty 'events' array of objects.";
                return false;

            default:
                error = $"Unknown message type '{messageType}'.";
                return false;
        }
    }

    private static bool TryReadSubscription(JsonObject payload, out SubscriptionInfo? subscription, out string? error)
    {
        subscription = null;
        if (payload["subscription"] is not JsonObject s)
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

        var condition = s["condition"] as JsonObject;
        subscription = new SubscriptionInfo(id, type, version, status, BroadcasterOf(condition));
        error = null;
        return true;
    }

    /// <summary>The channel a subscription is about: the broadcaster, the raid target, or the user for user.* types.</summary>
    private static string? BroadcasterOf(JsonObject? condition)
    {
        if (condition is null)
        {
            return null;
        }

        foreach (var field in (string[])["broadcaster_user_id", "to_broadcaster_user_id", "user_id", "from_broadcaster_user_id"])
        {
            if (Text(condition, field) is { Length: > 0 } value)
            {
                return value;
            }
        }

        return null;
    }

    private static string? Text(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
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
