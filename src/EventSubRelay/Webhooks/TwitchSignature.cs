using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace EventSubRelay.Webhooks;

/// <summary>
/// Checks <c>Twitch-Eventsub-Message-Signature</c>: <c>sha256=</c> followed by the hex HMAC-SHA256 of
/// message id + timestamp (exactly as sent) + raw body, keyed with the subscription's secret.
/// </summary>
internal sealed class TwitchSignature : IDisposable
{
    private const string Prefix = "sha256=";
    private readonly byte[][] _keys;

    // One HMAC per key and thread, reset after each use: a native context made and freed for every webhook (what a
    // one-shot HMAC does) costs about as much as hashing the message itself.
    private readonly ThreadLocal<IncrementalHash[]> _hmacs;

    public TwitchSignature(IEnumerable<string> secrets)
    {
        _keys = secrets.Select(Encoding.UTF8.GetBytes).ToArray();
        _hmacs = new(() => [.. _keys.Select(key => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key))], trackAllValues: true);
    }

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
        foreach (var hmac in _hmacs.Value!)
        {
            Compute(hmac, messageId, timestamp, body, expected);
            // Every key is tried, so the time taken does not say which one matched.
            valid |= CryptographicOperations.FixedTimeEquals(expected, presented);
        }

        return valid;
    }

    /// <summary>The header value Twitch would send for this message, for tests and tools that act as Twitch.</summary>
    public static string Sign(string secret, string messageId, string timestamp, ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        Compute(hmac, messageId, timestamp, body, hash);
        return Prefix + Convert.ToHexStringLower(hash);
    }

    public void Dispose()
    {
        foreach (var hmac in _hmacs.Values.SelectMany(hmacs => hmacs))
        {
            hmac.Dispose();
        }

        _hmacs.Dispose();
    }

    private static void Compute(IncrementalHash hmac, string messageId, string timestamp, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        // The message id and timestamp are short (a long one is not Twitch's): the stack holds them.
        var longest = Encoding.UTF8.GetMaxByteCount(Math.Max(messageId.Length, timestamp.Length));
        var rented = longest > 512 ? ArrayPool<byte>.Shared.Rent(longest) : null;
        Span<byte> text = rented ?? stackalloc byte[512];
        hmac.AppendData(text[..Encoding.UTF8.GetBytes(messageId, text)]);
        hmac.AppendData(text[..Encoding.UTF8.GetBytes(timestamp, text)]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        hmac.AppendData(body);
        hmac.GetHashAndReset(destination);
    }
}
