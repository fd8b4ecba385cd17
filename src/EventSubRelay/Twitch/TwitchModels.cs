using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSubRelay.Twitch;

internal sealed record TwitchTokens(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("scope")] IReadOnlyList<string>? Scope,
    [property: JsonPropertyName("token_type")] string? TokenType);

internal sealed record TokenValidation(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("login")] string? Login,
    [property: JsonPropertyName("user_id")] string? UserId,
    [property: JsonPropertyName("scopes")] IReadOnlyList<string>? Scopes,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

internal sealed record TwitchUser(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("login")] string Login,
    [property: JsonPropertyName("display_name")] string DisplayName,
    [property: JsonPropertyName("broadcaster_type")] string BroadcasterType,
    [property: JsonPropertyName("profile_image_url")] string? ProfileImageUrl);

internal sealed record EventSubTransport(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("callback")] string? Callback,
    [property: JsonPropertyName("secret"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Secret = null);

internal sealed record CreateEventSubSubscription(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("condition")] IReadOnlyDictionary<string, string> Condition,
    [property: JsonPropertyName("transport")] EventSubTransport Transport);

internal sealed record EventSubSubscriptionInfo(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("condition")] IReadOnlyDictionary<string, JsonElement> Condition,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("transport")] EventSubTransport Transport,
    [property: JsonPropertyName("cost")] int Cost)
{
    /// <summary>The channel the subscription is about, read from its condition as the webhook endpoint reads it.</summary>
    [JsonIgnore]
    public string? ChannelUserId => EventSubCondition.ChannelOf(name =>
        Condition.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null);
}

/// <summary>All subscriptions of the app, with Twitch's cost accounting from the last page.</summary>
internal sealed record EventSubSubscriptionList(IReadOnlyList<EventSubSubscriptionInfo> Subscriptions, int Total, int TotalCost, int MaxTotalCost);

internal sealed record CreatedEventSubSubscription(EventSubSubscriptionInfo Subscription, int Total, int TotalCost, int MaxTotalCost);

internal sealed record CustomReward(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("cost")] int Cost,
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("background_color")] string? BackgroundColor,
    [property: JsonPropertyName("is_enabled")] bool IsEnabled = false,
    [property: JsonPropertyName("is_paused")] bool IsPaused = false,
    [property: JsonPropertyName("is_user_input_required")] bool IsUserInputRequired = false);

internal sealed record Cheermote(
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("tiers")] IReadOnlyList<CheermoteTier> Tiers);

internal sealed record CheermoteTier(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("min_bits")] int MinBits,
    [property: JsonPropertyName("color")] string Color,
    [property: JsonPropertyName("images")] JsonElement? Images = null)
{
    private static readonly string[] PreferredScales = ["2", "1", "1.5", "3", "4"];

    /// <summary>The animated image for dark backgrounds at scale 2, or the nearest scale Twitch gives.</summary>
    public string? ImageUrl()
    {
        if (Images is not { ValueKind: JsonValueKind.Object } images || !images.TryGetProperty("dark", out var dark) || !dark.TryGetProperty("animated", out var animated))
        {
            return null;
        }

        foreach (var scale in PreferredScales)
        {
            if (animated.TryGetProperty(scale, out var url) && url.GetString() is { } found)
            {
                return found;
            }
        }

        return null;
    }
}

internal sealed record HelixPage<T>(
    [property: JsonPropertyName("data")] IReadOnlyList<T> Data,
    [property: JsonPropertyName("pagination")] HelixPagination? Pagination,
    [property: JsonPropertyName("total")] int? Total,
    [property: JsonPropertyName("total_cost")] int? TotalCost,
    [property: JsonPropertyName("max_total_cost")] int? MaxTotalCost);

internal sealed record HelixPagination([property: JsonPropertyName("cursor")] string? Cursor);

/// <summary>How a subscription's condition names the channel it is about.</summary>
internal static class EventSubCondition
{
    private static readonly string[] ChannelFields = ["broadcaster_user_id", "to_broadcaster_user_id", "user_id", "from_broadcaster_user_id"];

    /// <summary>The broadcaster, the raid target, or the user for user.* types; null for app-wide conditions (client_id).</summary>
    public static string? ChannelOf(Func<string, string?> field) =>
        ChannelFields.Select(field).FirstOrDefault(value => value is { Length: > 0 });
}
