using System.Text.RegularExpressions;
using EventSubRelay.Events;

namespace EventSubRelay.IntegrationTests.Golden;

/// <summary>
/// Realistic EventSub notifications go through the real relay (webhook, queue, dedup, worker, mapping,
/// SignalR) and the events an overlay receives are compared with checked-in JSON.
/// </summary>
public sealed partial class GoldenCatalogueTests
{
    public static TheoryData<string> Cases() => [.. GoldenCase.Names()];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Notifications_become_the_checked_in_overlay_events(string name)
    {
        var golden = GoldenCase.Load(name);

        var received = await golden.RunAsync();

        if (GoldenCase.Updating)
        {
            golden.WriteExpected(received);
            return;
        }

        var expected = golden.Expected()
            ?? throw new InvalidOperationException($"{golden.ExpectedPath} is missing: run the tests with EVENTSUBRELAY_UPDATE_GOLDEN=1 and review it.");
        GoldenCase.Format(received).Should().Be(GoldenCase.Format(expected));
    }

    /// <summary>Every row of the registry, and every overlay event type it emits, has a golden case.</summary>
    [Fact]
    public void Every_mapping_has_a_golden_case()
    {
        var covered = new HashSet<(string Type, string Version, string Event)>();
        foreach (var golden in GoldenCase.Names().Select(GoldenCase.Load))
        {
            foreach (var produced in golden.Expected() ?? [])
            {
                var step = int.Parse(StepOf().Match(produced!["id"]!.GetValue<string>()).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                var (type, version) = golden.SubscriptionOf(step)!.Value;
                covered.Add((type, version, produced["type"]!.GetValue<string>()));
            }
        }

        var documented = EventTypes.All.SelectMany(t => t.Emits.Select(e => (t.Type, t.Version, e.Type))).ToList();

        documented.Should().HaveCountGreaterThan(50);
        documented.Where(row => !covered.Contains(row)).Should().BeEmpty("each mapping needs a golden case that produces it");
        covered.Select(c => c.Event).Should().Contain("Raw", "unknown types are delivered as Raw");
    }

    [GeneratedRegex(@"^#(\d+)")]
    private static partial Regex StepOf();
}
