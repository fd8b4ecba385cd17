using System.Text.Json;
using System.Text.RegularExpressions;
using EventSubRelay.Events;

namespace EventSubRelay.Tests;

public sealed partial class EventTypesTests
{
    [Fact]
    public void Docs_events_md_and_the_test_alert_samples_match_the_registry()
    {
        var document = File.ReadAllText(Path.Combine(Repository.Root, "docs", "events.md"));
        var documented = TableRow().Matches(document).Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value.Trim())).ToList();

        documented.Should().OnlyHaveUniqueItems();
        documented.Should().BeEquivalentTo(EventTypes.All.Select(t => (t.Type, t.Version, string.Join(", ", t.Emits.Select(e => $"`{e.Type}`")))));

        using var samples = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "src", "EventSubRelay", "Events", "test-alerts.json")));
        var sampled = samples.RootElement.EnumerateObject().ToList();
        sampled.Select(s => s.Name).Should().BeEquivalentTo(EventTypes.OverlayEventTypes, "every overlay event type has a test alert sample, and only those");
        foreach (var sample in sampled.Where(s => s.Name != OverlayTypes.Raw))
        {
            var row = EventTypes.Find(sample.Value.GetProperty("type").GetString()!, sample.Value.GetProperty("version").GetString()!);
            row.Should().NotBeNull($"the {sample.Name} sample is of a known type");
            row!.Emits.Select(e => e.Type).Should().Contain(sample.Name, $"the {sample.Name} sample's type emits it");
        }
    }

    [Fact]
    public void An_overlay_type_emitted_by_several_event_types_has_one_group_and_one_deduplication_key()
    {
        EventTypes.All.SelectMany(t => t.Emits).GroupBy(e => e.Type)
            .Where(g => g.Distinct().Count() > 1)
            .Select(g => g.Key)
            .Should().BeEmpty();
    }

    [Fact]
    public void Overlay_type_names_are_unique_and_every_one_is_emitted()
    {
        EventTypes.OverlayEventTypes.Should().OnlyHaveUniqueItems();
        typeof(OverlayTypes).GetFields().Select(f => (string)f.GetValue(null)!).Should().BeEquivalentTo(EventTypes.OverlayEventTypes);
    }

    [GeneratedRegex(@"^\| `([a-z_.]+)` \| (\d+) \| ([^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
