using System.Buffers;
using System.Buffers.Text;
using System.Text.Unicode;

namespace EventSubRelay.Webhooks;

/// <summary>
/// The bounds a webhook body must keep so that PostgreSQL can store and index everything the relay takes from
/// it; checked before the acknowledgement, so what cannot be stored is refused instead of failing later.
/// </summary>
/// <remarks>
/// One pass over the raw bytes of a body already known to be valid JSON, jumping between quotes and
/// backslashes with vectorized searches; it does not build anything.
/// </remarks>
internal static class StorableJson
{
    /// <summary>Longest message id (Twitch sends UUIDs) and longest value of an <c>id</c> or <c>*_id</c> field.</summary>
    public const int MaxIdLength = 256;

    /// <summary>Longest subscription type, version or status.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Most entries in a batched notification's <c>events</c> array.</summary>
    public const int MaxEvents = 1000;

    /// <summary>Longest number, and largest exponent, a body may hold (PostgreSQL's <c>numeric</c> has its own limits).</summary>
    public const int MaxNumberLength = 100;

    public const int MaxExponent = 1000;

    private static readonly SearchValues<byte> InString = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> OutsideString = SearchValues.Create("\"-0123456789:"u8);
    private static readonly SearchValues<byte> NumberEnd = SearchValues.Create(",]} \t\r\n"u8);

    /// <summary>Null when <paramref name="body"/> is storable, otherwise what is wrong with it.</summary>
    /// <remarks>Call first with the raw body: a body that is not UTF-8 is refused before it is parsed.</remarks>
    public static string? CheckEncoding(ReadOnlySpan<byte> body) =>
        Utf8.IsValid(body) ? null : "The body is not valid UTF-8.";

    /// <summary>Null when the (valid JSON) body keeps every bound, otherwise which one it breaks.</summary>
    public static string? Check(ReadOnlySpan<byte> json)
    {
        var i = 0;
        // Whether the string that just ended was an object key of an id-like field, whose value comes next.
        var idValueNext = false;
        while (true)
        {
            var next = json[i..].IndexOfAny(OutsideString);
            if (next < 0)
            {
                return null;
            }

            i += next;
            var c = json[i];
            if (c == ':')
            {
                i++;
                continue;
            }

            if (c != '"')
            {
                var length = json[i..].IndexOfAny(NumberEnd);
                var number = length < 0 ? json[i..] : json[i..(i + length)];
                if (CheckNumber(number) is { } numberError)
                {
                    return numberError;
                }

                i += number.Length;
                idValueNext = false;
                continue;
            }

            var start = ++i;
            var hasEscape = false;
            while (true)
            {
                var stop = json[i..].IndexOfAny(InString);
                i += stop;
                if (json[i] == '"')
                {
                    break;
                }

                hasEscape = true;
                if (json[i + 1] == 'u')
                {
                    var (escapeError, escapeLength) = CheckEscape(json, i);
                    if (escapeError is not null)
                    {
                        return escapeError;
                    }

                    i += escapeLength;
                }
                else
                {
                    i += 2;
                }
            }

            var text = json[start..i];
            i++;
            var isKey = IsFollowedByColon(json, i);
            if (isKey)
            {
                idValueNext = !hasEscape && (text.SequenceEqual("id"u8) || text.EndsWith("_id"u8));
            }
            else
            {
                if (idValueNext && text.Length > MaxIdLength)
                {
                    return $"An id field is longer than {MaxIdLength} characters.";
                }

                idValueNext = false;
            }
        }
    }

    private static bool IsFollowedByColon(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length && json[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }

        return i < json.Length && json[i] == ':';
    }

    private static string? CheckNumber(ReadOnlySpan<byte> number)
    {
        if (number.Length > MaxNumberLength)
        {
            return $"A number is longer than {MaxNumberLength} characters.";
        }

        var e = number.IndexOfAny((byte)'e', (byte)'E');
        if (e >= 0)
        {
            var exponent = number[(e + 1)..];
            if (exponent.Length > 0 && exponent[0] is (byte)'+' or (byte)'-')
            {
                exponent = exponent[1..];
            }

            if (!Utf8Parser.TryParse(exponent, out int value, out _) || value > MaxExponent)
            {
                return $"A number has an exponent beyond ±{MaxExponent}.";
            }
        }

        return null;
    }

    /// <summary>Refuses <c>\u0000</c> (PostgreSQL text cannot hold it) and surrogates that are not a pair.</summary>
    /// <returns>The error, or null and how many bytes the escape (a surrogate pair: both escapes) takes.</returns>
    private static (string? Error, int Length) CheckEscape(ReadOnlySpan<byte> json, int at)
    {
        var unit = Hex(json, at);
        if (unit == 0)
        {
            return ("The body contains \\u0000, which cannot be stored.", 0);
        }

        if (unit is >= 0xDC00 and <= 0xDFFF)
        {
            return (LoneSurrogate, 0);
        }

        if (unit is >= 0xD800 and <= 0xDBFF)
        {
            var low = at + 7 < json.Length && json[at + 6] == '\\' && json[at + 7] == 'u' ? Hex(json, at + 6) : -1;
            return low is >= 0xDC00 and <= 0xDFFF ? (null, 12) : (LoneSurrogate, 0);
        }

        return (null, 6);
    }

    private const string LoneSurrogate = "The body contains a lone surrogate escape (\\ud800-\\udfff not in a pair).";

    private static int Hex(ReadOnlySpan<byte> json, int at) =>
        Utf8Parser.TryParse(json.Slice(at + 2, 4), out int value, out var consumed, 'x') && consumed == 4 ? value : -1;
}
