using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using EventSubRelay.Webhooks;

namespace EventSubRelay.Benchmarks;

/// <summary>
/// Unique, correctly signed <c>channel.follow</c> v2 notifications shaped like Twitch's own (about 600 bytes),
/// spread over a handful of broadcasters.
/// </summary>
internal sealed class FollowNotifications(string secret)
{
    private const int Broadcasters = 16;
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private long _sequence;

    public HttpRequestMessage Create(Uri endpoint)
    {
        var n = Interlocked.Increment(ref _sequence);
        return Create(endpoint, broadcaster: 100_000 + (n % Broadcasters), follower: 50_000_000 + n, Guid.NewGuid().ToString());
    }

    /// <summary>A notification for one broadcaster with a message id the caller knows (to match it with its receipt).</summary>
    public HttpRequestMessage Create(Uri endpoint, long broadcaster, long follower, string messageId)
    {
        var timestamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        var body = Body(broadcaster, follower, followedAt: timestamp);

        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        var headers = request.Headers;
        headers.Add(TwitchHeaders.MessageId, messageId);
        headers.Add(TwitchHeaders.Retry, "0");
        headers.Add(TwitchHeaders.MessageType, MessageTypes.Notification);
        headers.Add(TwitchHeaders.Signature, TwitchSignature.Sign(secret, messageId, timestamp, body));
        headers.Add(TwitchHeaders.Timestamp, timestamp);
        headers.Add(TwitchHeaders.SubscriptionType, "channel.follow");
        headers.Add(TwitchHeaders.SubscriptionVersion, "2");
        return request;
    }

    /// <summary>The size of a typical body, for the report.</summary>
    public static int TypicalBodyBytes => Body(100_001, 50_000_001, "2026-11-24T16:00:00.0000000Z").Length;

    /// <summary>The <c>event</c> object of a notification's body, for senders that skip the webhook.</summary>
    public static System.Text.Json.JsonElement Event(long broadcaster, long follower)
    {
        using var body = System.Text.Json.JsonDocument.Parse(Body(broadcaster, follower, "2026-11-24T16:00:00.0000000Z"));
        return body.RootElement.GetProperty("event").Clone();
    }

    private static byte[] Body(long broadcaster, long follower, string followedAt) => Encoding.UTF8.GetBytes(
        $$$"""
        {"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4{{{broadcaster:x8}}}","type":"channel.follow","version":"2","status":"enabled","cost":0,"condition":{"broadcaster_user_id":"{{{broadcaster}}}","moderator_user_id":"{{{broadcaster}}}"},"transport":{"method":"webhook","callback":"https://relay.example.com/eventsub"},"created_at":"2026-11-01T10:11:12.634234626Z"},"event":{"user_id":"{{{follower}}}","user_login":"viewer_{{{follower}}}","user_name":"Viewer_{{{follower}}}","broadcaster_user_id":"{{{broadcaster}}}","broadcaster_user_login":"streamer_{{{broadcaster}}}","broadcaster_user_name":"Streamer_{{{broadcaster}}}","followed_at":"{{{followedAt}}}"}}
        """);
}
