using EventSubRelay.Data;
using EventSubRelay.Twitch;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace EventSubRelay.Accounts;

/// <summary>
/// Linked Twitch accounts. Tokens are encrypted with Data Protection before they reach PostgreSQL; the key ring
/// is stored there too, so every instance can read what another wrote.
/// </summary>
internal sealed class LinkedAccounts(RelayDbContext db, IDataProtectionProvider protection, TimeProvider time)
{
    private readonly IDataProtector _protector = protection.CreateProtector("EventSubRelay.TwitchTokens");

    /// <summary>The events a newly linked channel starts with: every regular group (no affiliate-only ones).</summary>
    public static IReadOnlyList<string> DefaultEvents { get; } =
        [.. SubscriptionCatalogue.Groups.Where(g => !g.AffiliateOnly).SelectMany(g => g.Events).Select(e => e.Key!)];

    public Task<LinkedAccount?> FindAsync(string broadcasterUserId, CancellationToken cancellationToken) =>
        db.LinkedAccounts.SingleOrDefaultAsync(a => a.BroadcasterUserId == broadcasterUserId, cancellationToken);

    public Task<List<LinkedAccount>> ListAsync(CancellationToken cancellationToken) =>
        db.LinkedAccounts.AsNoTracking().OrderBy(a => a.BroadcasterUserId).ToListAsync(cancellationToken);

    /// <summary>Stores a (re-)link: the user's current profile, the granted scopes and fresh tokens; clears "needs re-link".</summary>
    public async Task<LinkedAccount> LinkAsync(TwitchUser user, TwitchTokens tokens, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var account = await FindAsync(user.Id, cancellationToken);
        if (account is null)
        {
            account = new LinkedAccount
            {
                BroadcasterUserId = user.Id,
                Login = user.Login,
                DisplayName = user.DisplayName,
                ProtectedAccessToken = "",
                ChosenEvents = [.. DefaultEvents],
                LinkedAt = now,
            };
            db.LinkedAccounts.Add(account);
        }

        account.Login = user.Login;
        account.DisplayName = user.DisplayName;
        account.BroadcasterType = user.BroadcasterType;
        account.RelinkReason = null;
        SetTokens(account, tokens);
        // Whatever was blocked on the streamer (a missing scope, a revoked authorization) is tried again: blocks observed
        // before UpdatedAt no longer count (see SubscriptionSync).
        await db.SaveChangesAsync(cancellationToken);
        return account;
    }

    public async Task UpdateTokensAsync(LinkedAccount account, TwitchTokens tokens, CancellationToken cancellationToken)
    {
        SetTokens(account, tokens);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task MarkNeedsRelinkAsync(LinkedAccount account, string reason, CancellationToken cancellationToken)
    {
        account.RelinkReason = reason;
        account.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Stores the chosen sub-events; those the channel may not have (affiliate-only, unknown) are dropped.</summary>
    public async Task ChooseEventsAsync(LinkedAccount account, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        account.ChosenEvents = [.. SubscriptionCatalogue.Allowed(keys, IsAffiliateOrPartner(account)).Select(e => e.Key!)];
        account.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The decrypted access token; null when it cannot be read any more (the key ring lost or replaced).</summary>
    public string? AccessToken(LinkedAccount account) => Unprotect(account.ProtectedAccessToken);

    /// <summary>The decrypted refresh token; null when there is none or it cannot be read any more.</summary>
    public string? RefreshToken(LinkedAccount account) => account.ProtectedRefreshToken is { } refresh ? Unprotect(refresh) : null;

    private string? Unprotect(string protectedToken)
    {
        try
        {
            return _protector.Unprotect(protectedToken);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    public static bool IsAffiliateOrPartner(LinkedAccount account) => account.BroadcasterType is "affiliate" or "partner";

    /// <summary>The chosen events the channel may have.</summary>
    public static IReadOnlyList<Events.EventType> Events(LinkedAccount account) => SubscriptionCatalogue.Allowed(account.ChosenEvents, IsAffiliateOrPartner(account));

    /// <summary>Scopes the chosen events need that the stored token was not granted: the streamer must re-link.</summary>
    public static IReadOnlyList<string> MissingScopes(LinkedAccount account) => SubscriptionCatalogue.MissingScopes(Events(account), account.Scopes);

    private void SetTokens(LinkedAccount account, TwitchTokens tokens)
    {
        var now = time.GetUtcNow();
        account.ProtectedAccessToken = _protector.Protect(tokens.AccessToken);
        account.ProtectedRefreshToken = tokens.RefreshToken is { } refresh ? _protector.Protect(refresh) : account.ProtectedRefreshToken;
        account.ExpiresAt = now.AddSeconds(tokens.ExpiresIn);
        if (tokens.Scope is { } scopes)
        {
            account.Scopes = [.. scopes];
        }

        account.UpdatedAt = now;
    }
}
