using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace EventSubRelay.StreamerBot;

/// <summary>The active overlay token a Streamer.bot client authenticated with.</summary>
internal sealed record StreamerBotIdentity(Guid TokenId, string BroadcasterUserId, string TokenName);

/// <summary>
/// Verifies Streamer.bot's salted challenge (obs-websocket's algorithm) against the overlay tokens. The salt is
/// empty, so the client's secret <c>base64(SHA-256(token + ""))</c> is exactly <c>base64</c> of the stored token
/// hash: the relay keeps storing only the hash, and no token needs re-issuing. The trade-off: the stored hash is
/// enough to authenticate on this endpoint (never on the hub, which needs the token itself), as whatever a server
/// stores to check a challenge login is password-equivalent for that login.
/// </summary>
internal sealed class StreamerBotAuthentication(NpgsqlDataSource dataSource)
{
    /// <summary>The largest Authenticate value considered (a SHA-256 in base64 is 44 characters).</summary>
    private const int MaxAnswerLength = 100;

    public static string NewChallenge() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary><c>base64(SHA-256(UTF-8(secret + challenge)))</c>, the answer a client with this token hash sends.</summary>
    public static byte[] Expected(byte[] tokenHash, string challenge) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(Convert.ToBase64String(tokenHash) + challenge));

    /// <summary>The active token whose answer to <paramref name="challenge"/> is <paramref name="answer"/>, or null.</summary>
    public async Task<StreamerBotIdentity?> VerifyAsync(string challenge, string? answer, CancellationToken cancellationToken)
    {
        if (answer is null || answer.Length > MaxAnswerLength)
        {
            return null;
        }

        var presented = new byte[32];
        if (!Convert.TryFromBase64String(answer, presented, out var written) || written != 32)
        {
            return null;
        }

        // The client does not say which token it holds, so every active token is tried, each compared in
        // constant time and all of them compared, so the time taken says nothing about which one matched.
        await using var command = dataSource.CreateCommand("SELECT id, broadcaster_user_id, name, token_hash FROM overlay_tokens WHERE revoked_at IS NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        StreamerBotIdentity? match = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var hash = reader.GetFieldValue<byte[]>(3);
            if (CryptographicOperations.FixedTimeEquals(Expected(hash, challenge), presented) && match is null)
            {
                match = new StreamerBotIdentity(reader.GetGuid(0), reader.GetString(1), reader.GetString(2));
            }
        }

        return match;
    }
}
