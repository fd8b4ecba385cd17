using EventSubRelay.Operations;
using Serilog.Events;

namespace EventSubRelay.Tests;

public sealed class BoundedLogValuesTests
{
    private static readonly string Long = new('x', BoundedLogValues.MaxStringLength + 100);

    [Fact]
    public void Values_within_the_bounds_are_left_as_they_are()
    {
        var sequence = new SequenceValue([new ScalarValue("a"), new ScalarValue(1)]);
        var structure = new StructureValue([new LogEventProperty("Name", new ScalarValue("b"))]);
        var dictionary = new DictionaryValue([KeyValuePair.Create(new ScalarValue("k"), (LogEventPropertyValue)new ScalarValue("v"))]);

        var logEvent = Enriched(("Sequence", sequence), ("Structure", structure), ("Dictionary", dictionary));

        logEvent.Properties["Sequence"].Should().BeSameAs(sequence);
        logEvent.Properties["Structure"].Should().BeSameAs(structure);
        logEvent.Properties["Dictionary"].Should().BeSameAs(dictionary);
    }

    [Fact]
    public void Long_strings_and_long_lists_are_cut_wherever_they_are_nested()
    {
        var items = Enumerable.Range(0, 100).Select(i => (LogEventPropertyValue)new ScalarValue(i == 5 ? Long : $"item {i}")).ToList();
        var structure = new StructureValue([new LogEventProperty("Short", new ScalarValue("b")), new LogEventProperty("Long", new ScalarValue(Long))], "Request");
        var dictionary = new DictionaryValue([KeyValuePair.Create(new ScalarValue("k"), (LogEventPropertyValue)new ScalarValue(Long))]);

        var logEvent = Enriched(("Sequence", new SequenceValue(items)), ("Structure", structure), ("Dictionary", dictionary));

        var sequence = (SequenceValue)logEvent.Properties["Sequence"];
        sequence.Elements.Should().HaveCount(BoundedLogValues.MaxItems);
        sequence.Elements[4].Should().BeSameAs(items[4]);
        Text(sequence.Elements[5]).Should().StartWith(new string('x', BoundedLogValues.MaxStringLength)).And.EndWith("…(+100 chars)");
        sequence.Elements[6].Should().BeSameAs(items[6]);

        var cutStructure = (StructureValue)logEvent.Properties["Structure"];
        cutStructure.TypeTag.Should().Be("Request");
        cutStructure.Properties[0].Should().BeSameAs(structure.Properties[0]);
        Text(cutStructure.Properties[1].Value).Should().HaveLength(BoundedLogValues.MaxStringLength + "…(+100 chars)".Length);

        Text(((DictionaryValue)logEvent.Properties["Dictionary"]).Elements.Single().Value).Should().EndWith("…(+100 chars)");
    }

    private static LogEvent Enriched(params (string Name, LogEventPropertyValue Value)[] properties)
    {
        var logEvent = new LogEvent(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, MessageTemplate.Empty,
            [.. properties.Select(p => new LogEventProperty(p.Name, p.Value))]);
        new BoundedLogValues().Enrich(logEvent, null!);
        return logEvent;
    }

    private static string Text(LogEventPropertyValue value) => (string)((ScalarValue)value).Value!;
}
