using System.Text.Json;
using EventSubRelay.Events;

namespace EventSubRelay.StreamerBot;

/// <summary>
/// One socket's subscribed Twitch event types, in the relay's names. Source keys and type names match
/// case-insensitively; unknown sources and types are ignored; <c>"*"</c> (as the list or in it) is every type.
/// </summary>
internal sealed class StreamerBotSubscriptions
{
    public const string Source = "Twitch";
    private const string All = "*";
    private const int MaxTypes = 500;

    /// <summary>Every event type the relay emits, as <c>GetEvents</c> lists them.</summary>
    public static string[] Types { get; } = [.. EventTypes.OverlayEventTypes.Distinct(StringComparer.Ordinal)];

    private static readonly Dictionary<string, string> Canonical = Types.ToDictionary(t => t, t => t, StringComparer.OrdinalIgnoreCase);

    private readonly HashSet<string> _types = new(StringComparer.Ordinal);

    public bool IsEmpty => _types.Count == 0;

    public bool Covers(string type) => _types.Contains(type);

    /// <summary>Adds types; returns those that were not subscribed before.</summary>
    public string[] Add(IEnumerable<string> types) => [.. types.Where(_types.Add)];

    public string[] Remove(IEnumerable<string> types) => [.. types.Where(_types.Remove)];

    public string[] Current() => [.. Types.Where(_types.Contains)];

    /// <summary>The relay's types named by a request's <c>events</c>; false when it has no <c>events</c> object.</summary>
    public static bool TryParse(JsonElement request, out string[] types)
    {
        types = [];
        if (!request.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in events.EnumerateObject())
        {
            if (!source.Name.Equals(Source, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (source.Value.ValueKind == JsonValueKind.String && source.Value.GetString() == All)
            {
                found.UnionWith(Types);
                continue;
            }

            if (source.Value.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var type in source.Value.EnumerateArray().Take(MaxTypes))
            {
                if (type.ValueKind != JsonValueKind.String || type.GetString() is not { } name)
                {
                    continue;
                }

                if (name == All)
                {
                    found.UnionWith(Types);
                }
                else if (Canonical.TryGetValue(name, out var canonical))
                {
                    found.Add(canonical);
                }
            }
        }

        types = [.. found];
        return true;
    }
}
