using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;

namespace EventSubRelay.Events;

/// <summary>Details of a channel-points reward that redemption notifications do not carry.</summary>
internal sealed record RewardDetails(string? BackgroundColor, bool InputRequired, bool Enabled, bool Paused);

/// <summary>
/// Facts some normalized fields need that Twitch's notifications leave out (a raider's profile image, a
/// reward's colour and flags, a cheermote's colour and image). The catalogue asks with a short timeout,
/// so a slow or missing source never holds up delivery; a null answer leaves the field null.
/// </summary>
internal interface IEventEnricher
{
    Task<string?> ProfileImageAsync(string userId, CancellationToken cancellationToken);

    Task<RewardDetails?> RewardAsync(string broadcasterUserId, string rewardId, CancellationToken cancellationToken);

    Task<(string? Color, string? ImageUrl)> CheermoteAsync(string broadcasterUserId, string prefix, int bits, CancellationToken cancellationToken);
}

/// <summary>
/// What the relay knows without Twitch's API: rewards as the channel's own reward events last described
/// them. Profile images and cheermotes need Helix and are unknown here. Mapping is part of the delivery path,
/// so it reads through the delivery pool.
/// </summary>
internal sealed class StoredEventEnricher(OverlayEventStore events, IMemoryCache cache) : IEventEnricher
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);

    public Task<string?> ProfileImageAsync(string userId, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    public Task<(string? Color, string? ImageUrl)> CheermoteAsync(string broadcasterUserId, string prefix, int bits, CancellationToken cancellationToken) =>
        Task.FromResult<(string?, string?)>((null, null));

    public async Task<RewardDetails?> RewardAsync(string broadcasterUserId, string rewardId, CancellationToken cancellationToken)
    {
        var key = (nameof(RewardAsync), broadcasterUserId, rewardId);
        if (cache.TryGetValue(key, out RewardDetails? cached))
        {
            return cached;
        }

        RewardDetails? details = null;
        if (await events.LatestRewardAsync(broadcasterUserId, rewardId, cancellationToken) is { } json)
        {
            using var reward = JsonDocument.Parse(json);
            var r = reward.RootElement;
            details = new RewardDetails(
                r.TryGetProperty("backgroundColor", out var color) && color.ValueKind == JsonValueKind.String ? color.GetString() : null,
                r.TryGetProperty("inputRequired", out var input) && input.ValueKind == JsonValueKind.True,
                r.TryGetProperty("enabled", out var enabled) && enabled.ValueKind == JsonValueKind.True,
                r.TryGetProperty("paused", out var paused) && paused.ValueKind == JsonValueKind.True);
        }

        cache.Set(key, details, CacheFor);
        return details;
    }
}
