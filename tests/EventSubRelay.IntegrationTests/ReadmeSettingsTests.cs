using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// The README's configuration table and what a running relay reads agree: every setting the table names is one the relay
/// looks up, and every setting the relay looks up in a section the table documents is in the table. What the relay
/// reads is recorded by a configuration source that holds nothing and notes every key asked of it.
/// </summary>
public sealed partial class ReadmeSettingsTests
{
    /// <summary>Named in the table, but read by something else than a relay in the Testing environment, with the reason.</summary>
    private static readonly Dictionary<string, string> ReadElsewhere = new(StringComparer.OrdinalIgnoreCase)
    {
        ["LocalPostgres:DataDirectory"] = "read only in Development, where the relay starts its own PostgreSQL",
        ["LocalPostgres:Port"] = "read only in Development, where the relay starts its own PostgreSQL",
        // Read while the host is being built, before a test's configuration source joins; ComposeCertificateTests and
        // AccountTests show the relay using them.
        ["DataProtection:CertificatePath"] = "read while the host is built",
        ["DataProtection:CertificatePassword"] = "read while the host is built",
        // Read while the host is built, to register the backplane; ScaleOutTests show the relays using it.
        ["SignalR:Redis"] = "read while the host is built",
    };

    /// <summary>Looked up by the configuration binder, but no setting: a computed property of an options class.</summary>
    private static readonly HashSet<string> NotSettings = new(StringComparer.OrdinalIgnoreCase) { "Twitch:IsConfigured" };

    [Fact]
    public async Task The_configuration_table_names_exactly_the_settings_the_relay_reads_in_its_sections()
    {
        var documented = DocumentedSettings();
        var sections = documented.Where(s => s.Contains(':', StringComparison.Ordinal) && !ReadElsewhere.ContainsKey(s)).Select(s => s.Split(':')[0]).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var asked = new RecordingSource(sections);
        await using (var relay = await RelayFactory.StartAsync(configure: builder => builder.ConfigureAppConfiguration((_, configuration) => configuration.Add(asked))))
        {
            // A request through the overlay, the dashboard and the webhook paths, so that what is read on first use is read.
            using var client = relay.CreateRelayClient();
            (await client.GetAsync("/dashboard")).EnsureSuccessStatusCode();
            await using var overlay = await relay.ConnectOverlayAsync(await relay.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId()));
            await overlay.SubscribeAsync("*");
            await relay.SendNotificationAsync(TwitchWebhook.NewBroadcasterId());
        }

        var read = asked.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);
        // DOTNET_* variables are the .NET runtime's knobs, read by the runtime and not by the relay's configuration.
        var notRead = documented.Where(setting => !ReadElsewhere.ContainsKey(setting) && !setting.StartsWith("DOTNET_", StringComparison.Ordinal) && !IsRead(setting, read)).ToList();
        var undocumented = read
            .Where(key => key.Contains(':', StringComparison.Ordinal) && sections.Contains(key.Split(':')[0]) && !key.EndsWith(":" + RecordingSource.Probe, StringComparison.Ordinal))
            .Where(key => !documented.Any(setting => Covers(setting, key)) && !NotSettings.Contains(key))
            .Order(StringComparer.Ordinal).ToList();

        notRead.Should().BeEmpty("every setting in the README's table is one the relay reads");
        undocumented.Should().BeEmpty("every setting the relay reads in a documented section is in the README's table");
    }

    /// <summary>The setting names in the first column of the README's configuration table (environment forms as configuration keys).</summary>
    private static List<string> DocumentedSettings()
    {
        var readme = Repository.ReadFile("README.md");
        var table = readme[readme.IndexOf("\n## Configuration", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("\n## ", 2, StringComparison.Ordinal)];
        var settings = TableRow().Matches(table)
            .SelectMany(row => Name().Matches(row.Groups[1].Value).Select(name => name.Groups[1].Value))
            // The host reads ASPNETCORE_-prefixed variables without the prefix.
            .Select(name => name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) ? name["ASPNETCORE_".Length..] : name)
            .ToList();
        settings.Should().HaveCountGreaterThan(20);
        return settings;
    }

    private static bool IsRead(string setting, HashSet<string> read) =>
        read.Contains(setting) || read.Any(key => Covers(setting, key))
        // The host's switch, as written in the environment (FORWARDEDHEADERS_ENABLED) and as it reads it.
        || (setting.Equals("FORWARDEDHEADERS_ENABLED", StringComparison.OrdinalIgnoreCase) && read.Contains("ForwardedHeaders_Enabled"));

    /// <summary>Whether a documented setting covers a key read: the same, an entry of it (<c>…:0</c>), or a <c>&lt;placeholder&gt;</c> part.</summary>
    private static bool Covers(string setting, string key)
    {
        var placeholder = setting.IndexOf(":<", StringComparison.Ordinal);
        var prefix = placeholder >= 0 ? setting[..placeholder] : setting;
        return key.Equals(prefix, StringComparison.OrdinalIgnoreCase) || key.StartsWith(prefix + ":", StringComparison.OrdinalIgnoreCase);
    }

    [GeneratedRegex(@"^\| ([^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex(@"`([A-Za-z_][\w:<>]*)`")]
    private static partial Regex Name();

    /// <summary>
    /// A configuration source with no values that notes every key looked up and every section listed. The documented
    /// sections get one child of no use (<see cref="Probe"/>): the configuration binder looks up an options class's
    /// properties only in a section that has children.
    /// </summary>
    private sealed class RecordingSource(HashSet<string> sections) : ConfigurationProvider, IConfigurationSource
    {
        public const string Probe = "readme-settings-probe";

        private readonly ConcurrentDictionary<string, byte> _keys = new(StringComparer.OrdinalIgnoreCase);

        public IEnumerable<string> Keys => _keys.Keys;

        public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

        public override bool TryGet(string key, out string? value)
        {
            _keys.TryAdd(key, 0);
            value = null;
            return false;
        }

        public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
        {
            if (parentPath is null)
            {
                return earlierKeys;
            }

            _keys.TryAdd(parentPath, 0);
            return sections.Contains(parentPath) ? earlierKeys.Append(Probe) : earlierKeys;
        }
    }
}
