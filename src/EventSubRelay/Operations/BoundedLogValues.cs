using Serilog.Core;
using Serilog.Events;

namespace EventSubRelay.Operations;

/// <summary>
/// Caps every value a log event carries (a request path, a header, a query parameter, whatever a request sent):
/// strings to <see cref="MaxStringLength"/> characters and lists to <see cref="MaxItems"/> entries, so that no
/// request, signed or not, can make one log line larger than a few kilobytes.
/// </summary>
internal sealed class BoundedLogValues : ILogEventEnricher
{
    /// <summary>Above the longest id the relay accepts (256 characters), so stored ids are logged whole.</summary>
    public const int MaxStringLength = 512;

    public const int MaxItems = 64;

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? bounded = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            var capped = Bound(value);
            if (!ReferenceEquals(capped, value))
            {
                (bounded ??= []).Add(new LogEventProperty(name, capped));
            }
        }

        foreach (var property in bounded ?? [])
        {
            logEvent.AddOrUpdateProperty(property);
        }
    }

    private static LogEventPropertyValue Bound(LogEventPropertyValue value) => value switch
    {
        ScalarValue scalar => Text(scalar.Value) is { Length: > MaxStringLength } text ? new ScalarValue(Truncate(text)) : scalar,
        SequenceValue sequence => BoundAll(sequence.Elements, sequence.Elements.Count, Bound, ReferenceEquals) is { } elements
            ? new SequenceValue(elements) : sequence,
        StructureValue structure => BoundAll(structure.Properties, structure.Properties.Count, BoundProperty, ReferenceEquals) is { } properties
            ? new StructureValue(properties, structure.TypeTag) : structure,
        DictionaryValue dictionary => BoundAll(dictionary.Elements, dictionary.Elements.Count, BoundEntry, SameEntry) is { } entries
            ? new DictionaryValue(entries) : dictionary,
        _ => value,
    };

    /// <summary>The text a scalar renders as, where it can be long: strings, and objects rendered by their ToString (paths, header values).</summary>
    private static string? Text(object? value) => value switch
    {
        string text => text,
        null or bool or IFormattable => null,
        _ => value.ToString(),
    };

    private static LogEventProperty BoundProperty(LogEventProperty property) =>
        Bound(property.Value) is var value && ReferenceEquals(value, property.Value) ? property : new LogEventProperty(property.Name, value);

    private static KeyValuePair<ScalarValue, LogEventPropertyValue> BoundEntry(KeyValuePair<ScalarValue, LogEventPropertyValue> entry) =>
        KeyValuePair.Create((ScalarValue)Bound(entry.Key), Bound(entry.Value));

    private static bool SameEntry(KeyValuePair<ScalarValue, LogEventPropertyValue> a, KeyValuePair<ScalarValue, LogEventPropertyValue> b) =>
        ReferenceEquals(a.Key, b.Key) && ReferenceEquals(a.Value, b.Value);

    private static string Truncate(string text)
    {
        var length = char.IsHighSurrogate(text[MaxStringLength - 1]) ? MaxStringLength - 1 : MaxStringLength;
        return $"{text[..length]}…(+{text.Length - length} chars)";
    }

    /// <summary>
    /// Each item bounded, and at most <see cref="MaxItems"/> of them; null, with nothing allocated, when that changes
    /// nothing (the common case: this runs for every log event).
    /// </summary>
    private static List<T>? BoundAll<T>(IEnumerable<T> items, int count, Func<T, T> bound, Func<T, T, bool> same)
    {
        List<T>? capped = count > MaxItems ? new(MaxItems) : null;
        var index = 0;
        foreach (var item in items)
        {
            if (index++ == MaxItems)
            {
                break;
            }

            var value = bound(item);
            if (capped is null && !same(value, item))
            {
                // The items before this one are unchanged: take them as they are.
                capped = new List<T>(Math.Min(count, MaxItems));
                capped.AddRange(items.Take(index - 1));
            }

            capped?.Add(value);
        }

        return capped;
    }
}
