using System.Globalization;

namespace EventSubRelay.Webhooks;

/// <summary>
/// Parses the RFC 3339 timestamps Twitch sends. They carry 0 to 9 fractional digits (nanoseconds),
/// more than <see cref="DateTimeOffset"/> parses, so the fraction is cut to 7 digits (100 ns ticks) first.
/// </summary>
internal static class TwitchTimestamp
{
    private const int MaxFractionDigits = 9;
    private const int TickDigits = 7;

    public static bool TryParse(string? value, out DateTimeOffset timestamp)
    {
        timestamp = default;
        // yyyy-MM-ddTHH:mm:ss is 19 characters; the zone follows the optional fraction.
        if (value is null || value.Length < 20 || value[19] is not ('.' or 'Z' or 'z' or '+' or '-'))
        {
            return false;
        }

        var fractionEnd = 19;
        if (value[19] == '.')
        {
            fractionEnd = 20;
            while (fractionEnd < value.Length && char.IsAsciiDigit(value[fractionEnd]))
            {
                fractionEnd++;
            }

            var digits = fractionEnd - 20;
            if (digits is 0 or > MaxFractionDigits)
            {
                return false;
            }
        }

        var zone = value.AsSpan(fractionEnd);
        if (!(zone is "Z" or "z" || zone.Length == 6))
        {
            return false;
        }

        // yyyy-MM-ddTHH:mm:ss, then the fraction as 7 digits (cut or padded with zeros), then the zone.
        Span<char> normalised = stackalloc char[19 + 1 + TickDigits + 6];
        value.AsSpan(0, 19).CopyTo(normalised);
        normalised[19] = '.';
        var fraction = fractionEnd == 19 ? [] : value.AsSpan(20, Math.Min(fractionEnd - 20, TickDigits));
        fraction.CopyTo(normalised[20..]);
        normalised[(20 + fraction.Length)..(20 + TickDigits)].Fill('0');
        zone.CopyTo(normalised[(20 + TickDigits)..]);
        if (zone is "z")
        {
            normalised[20 + TickDigits] = 'Z';
        }

        return DateTimeOffset.TryParseExact(
            normalised[..(20 + TickDigits + zone.Length)],
            "yyyy-MM-dd'T'HH:mm:ss.fffffffK",
            CultureInfo.InvariantCulture,
            DateTimeStyles.None,
            out timestamp);
    }
}
