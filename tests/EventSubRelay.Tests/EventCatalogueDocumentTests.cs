using System.Text.RegularExpressions;
using EventSubRelay.Events;

namespace EventSubRelay.Tests;

public sealed partial class EventCatalogueDocumentTests
{
    [Fact]
    public void Docs_events_md_lists_exactly_the_mappings_the_code_has()
    {
        var document = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "events.md"));

        var documented = TableRow().Matches(document).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

        documented.Should().OnlyHaveUniqueItems();
        documented.Should().BeEquivalentTo(EventCatalogue.Known);
    }

    [GeneratedRegex(@"^\| `([a-z_.]+)` \| (\d+) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EventSubRelay.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Repository root not found.");
    }
}
