using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace EventSubRelay.Overlay;

/// <summary>An active overlay token, as authentication needs it.</summary>
internal sealed record ActiveOverlayToken(Guid Id, string BroadcasterUserId, string Name);

/// <summary>
/// The active overlay tokens, in memory, so that connecting an overlay needs no database round trip: when every
/// overlay reconnects at once (a restart, a network blip) the database sees nothing of it. All active tokens are
/// loaded at start-up; a token the cache does not know (created since, maybe on another instance) is looked up
/// once, however many connections present it at the same moment. Invalid tokens are not remembered (the
/// <see cref="InvalidTokenLimiter"/> bounds how often an address may try one).
/// </summary>
/// <remarks>
/// <see cref="RevokedTokenWatcher"/> checks every cached token against the database every few seconds and
/// forgets the revoked and deleted ones (and closes their connections), so a revocation made through any
/// instance takes effect on every instance within seconds; one made through this instance takes effect at once.
/// </remarks>
internal sealed class OverlayTokenCache(NpgsqlDataSource dataSource)
{
    private const string Prefix = "esr_";
    private readonly ConcurrentDictionary<string, ActiveOverlayToken> _byHash = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<ActiveOverlayToken?>> _lookups = new(StringComparer.Ordinal);

    public bool Loaded { get; private set; }

    /// <summary>The active token with this secret, or null.</summary>
    public async ValueTask<ActiveOverlayToken?> FindActiveAsync(string secret, CancellationToken cancellationToken)
    {
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > 200)
        {
            return null;
        }

        var hash = Hash(secret);
        var key = Convert.ToHexString(hash);
        if (_byHash.TryGetValue(key, out var cached))
        {
            return cached;
        }

        // One look-up for all who present the same unknown token at once; none of them may cancel it for the others.
        var mine = new TaskCompletionSource<ActiveOverlayToken?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lookup = _lookups.GetOrAdd(key, mine.Task);
        if (lookup == mine.Task)
        {
            _ = LookUpAsync(key, hash, mine);
        }

        return await lookup.WaitAsync(cancellationToken);
    }

    /// <summary>The ids of the cached tokens.</summary>
    public IReadOnlyCollection<Guid> Ids() => _byHash.Values.Select(t => t.Id).ToList();

    /// <summary>Forgets tokens that are no longer active.</summary>
    public void Forget(IReadOnlySet<Guid> ids)
    {
        foreach (var (key, token) in _byHash)
        {
            if (ids.Contains(token.Id))
            {
                _byHash.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Loads every active token.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id, broadcaster_user_id, name, token_hash FROM overlay_tokens WHERE revoked_at IS NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            _byHash.TryAdd(Convert.ToHexString(reader.GetFieldValue<byte[]>(3)), new ActiveOverlayToken(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
        }

        Loaded = true;
    }

    /// <summary>Looks the token up and completes <paramref name="result"/> once it is cached and no longer pending.</summary>
    private async Task LookUpAsync(string key, byte[] hash, TaskCompletionSource<ActiveOverlayToken?> result)
    {
        try
        {
            ActiveOverlayToken? token = null;
            await using (var command = dataSource.CreateCommand("SELECT id, broadcaster_user_id, name FROM overlay_tokens WHERE token_hash = @hash AND revoked_at IS NULL LIMIT 1"))
            {
                command.Parameters.Add(new NpgsqlParameter<byte[]>("hash", hash));
                await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
                if (await reader.ReadAsync(CancellationToken.None))
                {
                    token = new ActiveOverlayToken(reader.GetGuid(0), reader.GetString(1), reader.GetString(2));
                    _byHash[key] = token;
                }
            }

            _lookups.TryRemove(KeyValuePair.Create(key, result.Task));
            result.SetResult(token);
        }
        catch (Exception exception)
        {
            _lookups.TryRemove(KeyValuePair.Create(key, result.Task));
            result.SetException(exception);
        }
    }

    internal static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
