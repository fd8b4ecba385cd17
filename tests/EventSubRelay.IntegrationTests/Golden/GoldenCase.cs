using System.Text.Json;
using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests.Golden;

/// <summary>
/// A checked-in sequence of EventSub notifications (<c>Golden/Cases/{name}.json</c>) and the overlay events the
/// relay must turn them into (<c>{name}.expected.json</c>). A step <c>{"restart": true}</c> stops the relay and starts
/// a new one on the same database. Run the tests with <c>EVENTSUBRELAY_UPDATE_GOLDEN=1</c> to rewrite the expected
/// files from what the relay produces, then review the diff.
/// </summary>
public sealed class GoldenCase
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private GoldenCase(string name, JsonObject input)
    {
        Name = name;
        Broadcaster = input["broadcaster"]!.GetValue<string>();
        Steps = [.. input["steps"]!.AsArray().Select(step => step!.AsObject())];
    }

    public string Name { get; }

    /// <summary>The channel every notification of the case is for (the subscription condition's broadcaster).</summary>
    public string Broadcaster { get; }

    public IReadOnlyList<JsonObject> Steps { get; }

    public static bool Updating => Environment.GetEnvironmentVariable("EVENTSUBRELAY_UPDATE_GOLDEN") == "1";

    public static string Directory { get; } = Path.Combine(Repository.Root, "tests", "EventSubRelay.IntegrationTests", "Golden", "Cases");

    public static IEnumerable<string> Names() =>
        System.IO.Directory.EnumerateFiles(Directory, "*.json")
            .Where(path => !path.EndsWith(".expected.json", StringComparison.Ordinal))
            .Select(path => Path.GetFileNameWithoutExtension(path))
            .Order(StringComparer.Ordinal);

    public static GoldenCase Load(string name) =>
        new(name, JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, $"{name}.json")))!.AsObject());

    public string ExpectedPath => Path.Combine(Directory, $"{Name}.expected.json");

    /// <summary>The checked-in events, or null when the case has no expected file yet.</summary>
    public JsonArray? Expected() => File.Exists(ExpectedPath) ? JsonNode.Parse(File.ReadAllText(ExpectedPath))!.AsArray() : null;

    public void WriteExpected(JsonArray events) => File.WriteAllText(ExpectedPath, Format(events) + "\n");

    public static string Format(JsonNode node) => node.ToJsonString(Indented);

    /// <summary>The (type, version) of step <paramref name="index"/>, or null for a restart.</summary>
    public (string Type, string Version)? SubscriptionOf(int index) =>
        Steps[index]["type"] is { } type ? (type.GetValue<string>(), Steps[index]["version"]!.GetValue<string>()) : null;

    /// <summary>
    /// Sends every step as a signed webhook to a relay on a database of its own, with an overlay connection
    /// subscribed to every type, and returns what that overlay received. Event ids are written as <c>#{step}</c>
    /// (plus the suffix of a derived event), so the expected files do not depend on generated message ids.
    /// </summary>
    public async Task<JsonArray> RunAsync()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var received = new JsonArray();
        var messageIds = new Dictionary<string, int>(StringComparer.Ordinal);
        string? token = null;
        // One message timestamp for the whole case: what is derived from time (gift bomb windows, one moderator
        // action reported twice) then does not depend on how fast the steps run.
        var timestamp = TwitchWebhook.Timestamp(DateTimeOffset.UtcNow);
        var index = 0;
        while (index < Steps.Count)
        {
            await using var relay = await RelayFactory.StartAsync(connectionString: connectionString);
            token ??= await relay.CreateOverlayTokenAsync(Broadcaster);
            await using var overlay = await relay.ConnectSubscribedAsync(token);
            using var client = relay.CreateRelayClient();
            for (; index < Steps.Count && Steps[index]["restart"] is null; index++)
            {
                var messageId = TwitchWebhook.NewMessageId();
                messageIds[messageId] = index;
                using var response = await client.SendAsync(TwitchWebhook.Request(Body(Steps[index]), messageId: messageId, timestamp: timestamp));
                response.StatusCode.Should().Be(System.Net.HttpStatusCode.NoContent, $"step {index} of {Name} is a valid notification");
            }

            // A marker sent last arrives last on the ordered connection: everything before it has been delivered.
            var marker = await relay.SendNotificationAsync(Broadcaster);
            foreach (var envelope in await overlay.ReceivedBeforeAsync(marker))
            {
                var separator = envelope.Id.IndexOf(':', StringComparison.Ordinal);
                var messageId = separator < 0 ? envelope.Id : envelope.Id[..separator];
                var suffix = separator < 0 ? "" : envelope.Id[separator..];
                received.Add(new JsonObject
                {
                    ["id"] = $"#{messageIds[messageId]}{suffix}",
                    ["type"] = envelope.Event.Type,
                    ["isTest"] = envelope.IsTest,
                    ["data"] = JsonNode.Parse(envelope.Data.GetRawText()),
                });
            }

            index++; // past the restart
        }

        return received;
    }

    private string Body(JsonObject step) => new JsonObject
    {
        ["subscription"] = TwitchWebhook.Subscription(Broadcaster, step["type"]!.GetValue<string>(), step["version"]!.GetValue<string>(), "enabled")
            .WithCondition(step["condition"]?.DeepClone().AsObject()),
        ["event"] = step["event"]!.DeepClone(),
    }.ToJsonString();
}

internal static class SubscriptionExtensions
{
    /// <summary>Replaces the subscription's condition (raids and whispers name their channel differently).</summary>
    public static JsonObject WithCondition(this JsonObject subscription, JsonObject? condition)
    {
        if (condition is not null)
        {
            subscription["condition"] = condition;
        }

        return subscription;
    }
}
