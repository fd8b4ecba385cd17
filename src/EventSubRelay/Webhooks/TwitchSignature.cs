using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace EventSubRelay.Webhooks;

/// <summary>
/// Checks <c>Twitch-Eventsub-Message-Signature</c>: <c>sha256=</c> followed by the hex HMAC-SHA256 of
/// message id + timestamp (exactly as sent) + raw body, keyed with the subscription's secret.
/// </summary>
internal sealed class TwitchSignature
{
    private const string Prefix = "sha256=";
    private readonly byte[][] _keys;

    public TwitchSignature(IEnumerable<string> secrets) =>
        _keys = secrets.Select(Encoding.UTF8.GetBytes).ToArray();

    public bool IsValid(string messageId, string timestamp, ReadOnlySpan<byte> body, string? signatureHeader)
    {
        if (signatureHeader is null
            || signatureHeader.Length != Prefix.Length + SHA256.HashSizeInBytes * 2
            || !signatureHeader.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        if (Convert.FromHexString(signatureHeader.AsSpan(Prefix.Length), presented, out _, out var written) != OperationStatus.Done
            || written != presented.Length)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        var valid = false;
        foreach (var key in _keys)
        {
            Compute(key, messageId, timestamp, body, expected);
            // Every key is tried, so the time taken does not say which one matched.
            valid |= CryptographicOperations.FixedTimeEquals(expected, presented);
        }

        return valid;
    }

    /// <summary>The header value Twitch would send for this message, for tests and tools that act as Twitch.</summary>
    public static string Sign(string secret, string messageId, string timestamp, ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Compute(Encoding.UTF8.GetBytes(secret), messageId, timestamp, body, hash);
        return Prefix + Convert.ToHexStringLower(hash);
    }

    private static void Compute(byte[] key, string messageId, string timestamp, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        // One-shot HMAC over one pooled buffer: cheaper per webhook than an IncrementalHash (a native context each time).
        var length = Encoding.UTF8.GetByteCount(messageId) + Encoding.UTF8.GetByteCount(timestamp) + body.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(messageId, buffer);
            written += Encoding.UTF8.GetBytes(timestamp, buffer.AsSpan(written));
            body.CopyTo(buffer.AsSpan(written));
            HMACSHA256.HashData(key, buffer.AsSpan(0, length), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
