using System.Security.Cryptography;
using System.Text;
using EventSubRelay.Data;
using Microsoft.EntityFrameworkCore;

namespace EventSubRelay.Overlay;

/// <summary>Creates, finds and revokes overlay tokens. A token is 256 random bits; only its SHA-256 is stored.</summary>
internal sealed class OverlayTokens(RelayDbContext db, OverlayTokenCache cache, TimeProvider time)
{
    private const string Prefix = "esr_";

    public async Task<(OverlayToken Token, string Secret)> CreateAsync(string broadcasterUserId, string name, CancellationToken cancellationToken)
    {
        var secret = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var token = new OverlayToken
        {
            Id = Guid.CreateVersion7(),
            BroadcasterUserId = broadcasterUserId,
            Name = name,
            TokenHash = Hash(secret),
            CreatedAt = time.GetUtcNow(),
        };
        db.OverlayTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return (token, secret);
    }

    public Task<List<OverlayToken>> ListAsync(string? broadcasterUserId, CancellationToken cancellationToken) =>
        db.OverlayTokens.AsNoTracking()
            .Where(t => broadcasterUserId == null || t.BroadcasterUserId == broadcasterUserId)
            .OrderBy(t => t.BroadcasterUserId).ThenBy(t => t.CreatedAt)
            .ToListAsync(cancellationToken);

    /// <summary>Revokes a token; false when there is no such active token.</summary>
    public async Task<bool> RevokeAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var updated = await db.OverlayTokens
            .Where(t => t.Id == id && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);

        // At once on this instance; other instances forget it within seconds (RevokedTokenWatcher).
        cache.Forget(new HashSet<Guid> { id });
        return updated == 1;
    }

    /// <summary>Replaces an active token with a new one of the same name and broadcaster; null when there is no such active token.</summary>
    public async Task<(OverlayToken Token, string Secret)?> RotateAsync(Guid id, CancellationToken cancellationToken)
    {
        var old = await db.OverlayTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.RevokedAt == null, cancellationToken);
        if (old is null || !await RevokeAsync(id, cancellationToken))
        {
            return null;
        }

        return await CreateAsync(old.BroadcasterUserId, old.Name, cancellationToken);
    }

    /// <summary>The active token with this secret, or null.</summary>
    public Task<OverlayToken?> FindActiveAsync(string secret, CancellationToken cancellationToken)
    {
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > 200)
        {
            return Task.FromResult<OverlayToken?>(null);
        }

        var hash = Hash(secret);
        return db.OverlayTokens.AsNoTracking()
            .FirstOrDefaultAsync(t => t.TokenHash == hash && t.RevokedAt == null, cancellationToken);
    }

    private static byte[] Hash(string secret) => OverlayTokenCache.Hash(secret);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
