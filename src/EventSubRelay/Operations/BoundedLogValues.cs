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
        SequenceValue sequence => BoundItems(sequence.Elements) is { } elements ? new SequenceValue(elements) : sequence,
        StructureValue structure => BoundProperties(structure.Properties) is { } properties ? new StructureValue(properties, structure.TypeTag) : structure,
        DictionaryValue dictionary => BoundEntries(dictionary) is { } entries ? new DictionaryValue(entries) : dictionary,
        _ => value,
    };

    /// <summary>The text a scalar renders as, where it can be long: strings, and objects rendered by their ToString (paths, header values).</summary>
    private static string? Text(object? value) => value switch
    {
        string text => text,
        null or bool or IFormattable => null,
        _ => value.ToString(),
    };

    private static string Truncate(string text)
    {
        var length = char.IsHighSurrogate(text[MaxStringLength - 1]) ? MaxStringLength - 1 : MaxStringLength;
        return $"{text[..length]}…(+{text.Length - length} chars)";
    }

    private static List<LogEventPropertyValue>? BoundItems(IReadOnlyList<LogEventPropertyValue> elements)
    {
        var capped = elements.Take(MaxItems).Select(Bound).ToList();
        return capped.Count == elements.Count && capped.Select((v, i) => ReferenceEquals(v, elements[i])).All(same => same) ? null : capped;
    }

    private static List<LogEventProperty>? BoundProperties(IReadOnlyList<LogEventProperty> properties)
    {
        var capped = properties.Take(MaxItems).Select(p => Bound(p.Value) is var v && ReferenceEquals(v, p.Value) ? p : new LogEventProperty(p.Name, v)).ToList();
        return capped.Count == properties.Count && capped.Select((p, i) => ReferenceEquals(p, properties[i])).All(same => same) ? null : capped;
    }

    private static List<KeyValuePair<ScalarValue, LogEventPropertyValue>>? BoundEntries(DictionaryValue dictionary)
    {
        var entries = dictionary.Elements.ToList();
        var capped = entries.Take(MaxItems).Select(e => KeyValuePair.Create((ScalarValue)Bound(e.Key), Bound(e.Value))).ToList();
        return capped.Count == entries.Count && capped.Select((e, i) => ReferenceEquals(e.Key, entries[i].Key) && ReferenceEquals(e.Value, entries[i].Value)).All(same => same) ? null : capped;
    }
}
