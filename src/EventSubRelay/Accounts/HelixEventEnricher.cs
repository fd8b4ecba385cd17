using EventSubRelay.Events;
using EventSubRelay.Twitch;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Accounts;

/// <summary>
/// Enrichment from Twitch's API, cached: raiders' profile images (Get Users), reward details (Get Custom Reward,
/// with the linked channel's token; the channel's own reward events first), cheermote colours and images (Get
/// Cheermotes). Without Twitch settings it answers only from the stored reward events.
/// </summary>
internal sealed class HelixEventEnricher(StoredEventEnricher stored, IServiceScopeFactory scopes, IMemoryCache cache, IOptions<TwitchOptions> options) : IEventEnricher
{
    private static readonly TimeSpan ProfileCacheFor = TimeSpan.FromHours(1);
    private static readonly TimeSpan RewardCacheFor = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan CheermoteCacheFor = TimeSpan.FromHours(1);

    public async Task<string?> ProfileImageAsync(string userId, CancellationToken cancellationToken)
    {
        if (!options.Value.IsConfigured)
        {
            return null;
        }

        return await CachedAsync(("profile-image", userId), ProfileCacheFor, async services =>
        {
            var users = await services.GetRequiredService<HelixClient>().GetUsersAsync([userId], cancellationToken);
            return users.Count > 0 ? users[0].ProfileImageUrl : null;
        });
    }

    public async Task<RewardDetails?> RewardAsync(string broadcasterUserId, string rewardId, CancellationToken cancellationToken)
    {
        var known = await stored.RewardAsync(broadcasterUserId, rewardId, cancellationToken);
        if (known is not null || !options.Value.IsConfigured)
        {
            return known;
        }

        var rewards = await CachedAsync(("rewards", broadcasterUserId), RewardCacheFor, async services =>
        {
            var accounts = services.GetRequiredService<LinkedAccounts>();
            if (await accounts.FindAsync(broadcasterUserId, cancellationToken) is not { RelinkReason: null } account || accounts.AccessToken(account) is not { } token)
            {
                return [];
            }

            return await services.GetRequiredService<HelixClient>().GetCustomRewardsAsync(broadcasterUserId, token, cancellationToken);
        });
        return rewards?.FirstOrDefault(r => r.Id == rewardId) is { } reward
            ? new RewardDetails(reward.BackgroundColor, reward.IsUserInputRequired, reward.IsEnabled, reward.IsPaused)
            : null;
    }

    public async Task<(string? Color, string? ImageUrl)> CheermoteAsync(string broadcasterUserId, string prefix, int bits, CancellationToken cancellationToken)
    {
        if (!options.Value.IsConfigured)
        {
            return (null, null);
        }

        var cheermotes = await CachedAsync(("cheermotes", broadcasterUserId), CheermoteCacheFor,
            services => services.GetRequiredService<HelixClient>().GetCheermotesAsync(broadcasterUserId, cancellationToken));
        var tier = cheermotes?.FirstOrDefault(c => string.Equals(c.Prefix, prefix, StringComparison.OrdinalIgnoreCase))?
            .Tiers.Where(t => t.MinBits <= bits).MaxBy(t => t.MinBits);
        return (tier?.Color, tier?.ImageUrl());
    }

    /// <summary>What <paramref name="load"/> returns, from the cache for <paramref name="lifetime"/>; a failed load is not cached.</summary>
    private Task<T?> CachedAsync<T>(object key, TimeSpan lifetime, Func<IServiceProvider, Task<T>> load) =>
        cache.GetOrCreateAsync(key, async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = lifetime;
            await using var scope = scopes.CreateAsyncScope();
            return await load(scope.ServiceProvider);
        });
}
