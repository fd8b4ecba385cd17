using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>Builds webhook requests the way Twitch sends them, signed independently of the relay's code.</summary>
public static class TwitchWebhook
{
    public const string Secret = "integration-test-secret";

    public static string NewMessageId() => Guid.NewGuid().ToString();

    public static string NewBroadcasterId() => Random.Shared.NextInt64(10_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture);

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", CultureInfo.InvariantCulture);

    public static string NotificationBody(string broadcasterUserId, string type = "channel.follow", string version = "2", JsonObject? @event = null, string? subscriptionId = null) =>
        new JsonObject
        {
            ["subscription"] = Subscription(broadcasterUserId, type, version, "enabled", subscriptionId),
            ["event"] = @event ?? new JsonObject
            {
                ["user_id"] = "1337",
                ["user_login"] = "awesome_user",
                ["user_name"] = "Awesome_User",
                ["broadcaster_user_id"] = broadcasterUserId,
                ["broadcaster_user_login"] = "streamer",
                ["broadcaster_user_name"] = "Streamer",
                ["followed_at"] = "2026-11-24T10:00:00.123456789Z",
                // Also what cheers and raids carry, so any of these types can be sent with this body.
                ["is_anonymous"] = false,
                ["message"] = "Cheer100 nice",
                ["bits"] = 100,
                ["from_broadcaster_user_id"] = "1337",
                ["from_broadcaster_user_login"] = "awesome_user",
                ["from_broadcaster_user_name"] = "Awesome_User",
                ["viewers"] = 42,
            },
        }.ToJsonString();

    /// <summary>A <c>channel.chat.message</c> event shaped like Twitch's example.</summary>
    public static JsonObject ChatEvent(string broadcasterUserId, string text = "Hello everyone!") => new()
    {
        ["broadcaster_user_id"] = broadcasterUserId,
        ["broadcaster_user_login"] = "streamer",
        ["broadcaster_user_name"] = "Streamer",
        ["chatter_user_id"] = "67890",
        ["chatter_user_login"] = "chatter_fan",
        ["chatter_user_name"] = "Chatter_Fan",
        ["message_id"] = Guid.NewGuid().ToString(),
        ["message"] = new JsonObject
        {
            ["text"] = text,
            ["fragments"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text, ["cheermote"] = null, ["emote"] = null, ["mention"] = null }),
        },
        ["message_type"] = "text",
        ["badges"] = new JsonArray(),
        ["cheer"] = null,
        ["reply"] = null,
        ["channel_points_custom_reward_id"] = null,
    };

    public static JsonObject Subscription(string broadcasterUserId, string type, string version, string status, string? id = null) => new()
    {
        ["id"] = id ?? Guid.NewGuid().ToString(),
        ["status"] = status,
        ["type"] = type,
        ["version"] = version,
        ["cost"] = 0,
        ["condition"] = new JsonObject { ["broadcaster_user_id"] = broadcasterUserId, ["moderator_user_id"] = broadcasterUserId },
        ["transport"] = new JsonObject { ["method"] = "webhook", ["callback"] = "https://relay.example/eventsub" },
        ["created_at"] = "2026-11-24T09:00:00.000000000Z",
    };

    /// <summary>A signed request; every part can be overridden to make it wrong.</summary>
    public static HttpRequestMessage Request(
        string body,
        string messageType = "notification",
        string? messageId = null,
        string? timestamp = null,
        string secret = Secret,
        string path = "/eventsub",
        Func<string, string>? alterSignature = null)
    {
        messageId ??= NewMessageId();
        timestamp ??= Timestamp(DateTimeOffset.UtcNow);
        var signature = "sha256=" + Convert.ToHexStringLower(Hmac(secret, messageId + timestamp + body));
        if (alterSignature is not null)
        {
            signature = alterSignature(signature);
        }

        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Twitch-Eventsub-Message-Id", messageId);
        request.Headers.Add("Twitch-Eventsub-Message-Retry", "0");
        request.Headers.Add("Twitch-Eventsub-Message-Type", messageType);
        request.Headers.Add("Twitch-Eventsub-Message-Timestamp", timestamp);
        request.Headers.Add("Twitch-Eventsub-Subscription-Type", "channel.follow");
        request.Headers.Add("Twitch-Eventsub-Subscription-Version", "2");
        if (signature.Length > 0)
        {
            request.Headers.TryAddWithoutValidation("Twitch-Eventsub-Message-Signature", signature);
        }

        return request;
    }

    public static byte[] Hmac(string secret, string message) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message));
}
