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

        var fraction = fractionEnd == 19 ? "" : value[20..fractionEnd];
        fraction = fraction.Length > TickDigits ? fraction[..TickDigits] : fraction.PadRight(TickDigits, '0');
        var zone = value[fractionEnd..];
        if (zone is "z")
        {
            zone = "Z";
        }

        var normalised = string.Concat(value.AsSpan(0, 19), ".", fraction, zone);
        return DateTimeOffset.TryParseExact(
            normalised,
            "yyyy-MM-dd'T'HH:mm:ss.fffffffK",
            CultureInfo.InvariantCulture,
            DateTimeStyles.None,
            out timestamp)
            && (zone == "Z" || zone.Length == 6);
    }
}
