using System.Diagnostics;
using System.Net;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.IntegrationTests.Storm;
using Npgsql;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// Every overlay reconnecting at once (a relay restart, a network blip) against a PostgreSQL with the stock
/// <c>max_connections = 100</c>: webhooks are still acknowledged and reach every subscribed overlay within
/// seconds, and the relay stays inside its database budget.
/// </summary>
public sealed class StormTests
{
    private const int Broadcasters = 50;
    private const int OverlaysPerBroadcaster = 20;
    private const int DefaultBudget = 20;
    private static readonly TimeSpan DeliveryLimit = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_thousand_overlays_connecting_at_once_to_one_relay_get_every_webhook_within_two_seconds_inside_the_budget()
    {
        await using var server = await PostgresServer.StartNewAsync();
        var connectionString = Named(await server.CreateDatabaseAsync(), "storm-one");
        await using var relay = await RelayFactory.StartAsync(connectionString: connectionString);

        var (sampled, samples) = await StormAsync(connectionString, [relay.BaseAddress], "storm-one");

        samples.Should().BeGreaterThan(10);
        sampled.Should().BeLessThanOrEqualTo(DefaultBudget);
    }

    [Fact]
    public async Task A_thousand_overlays_connecting_at_once_to_two_relays_on_redis_get_every_webhook_within_two_seconds_inside_each_budget()
    {
        await using var server = await PostgresServer.StartNewAsync();
        await using var redis = await RedisServer.StartAsync();
        var database = await server.CreateDatabaseAsync();
        var shared = new Dictionary<string, string> { ["SignalR__Redis"] = redis.ConnectionString };
        await using var a = await RelayProcess.StartAsync(RelayProcess.Environment(Named(database, "storm-a"), shared));
        await using var b = await RelayProcess.StartAsync(RelayProcess.Environment(Named(database, "storm-b"), shared));

        await using var onA = new ConnectionSampler(database, "storm-a");
        var (both, samples) = await StormAsync(database, [a.BaseAddress, b.BaseAddress], "storm-");

        samples.Should().BeGreaterThan(10);
        onA.Max.Should().BeLessThanOrEqualTo(DefaultBudget);
        both.Should().BeLessThanOrEqualTo(2 * DefaultBudget);
    }

    [Fact]
    public async Task Delivery_recovers_by_itself_within_seconds_after_the_database_was_held_exhausted()
    {
        await using var server = await PostgresServer.StartNewAsync();
        var connectionString = Named(await server.CreateDatabaseAsync(), "storm-held");
        await using var relay = await RelayFactory.StartAsync(connectionString: connectionString);
        var broadcasters = Enumerable.Range(0, Broadcasters).Select(_ => TwitchWebhook.NewBroadcasterId()).ToList();
        var witnesses = new List<OverlayClient>();
        foreach (var broadcaster in broadcasters)
        {
            var witness = await relay.SubscribedOverlayAsync(broadcaster);
            witnesses.Add(witness);
        }

        // A thousand overlays the relay has never seen, each resuming from the start: a token look-up and a replay each.
        var clients = await OverlayStorm.CreateClientsAsync(connectionString, [relay.BaseAddress], broadcasters, OverlaysPerBroadcaster, afterSeq: 0);
        await using var sampler = new ConnectionSampler(connectionString, "storm-held");
        OverlayStorm storm;
        var sent = new List<SentWebhook>();
        long releasedAt;
        await using (var locker = new NpgsqlConnection(connectionString))
        {
            await locker.OpenAsync();
            await using var transaction = await locker.BeginTransactionAsync();
            await Database.ExecuteAsync(locker, "LOCK TABLE overlay_tokens, overlay_events IN ACCESS EXCLUSIVE MODE");
            storm = await OverlayStorm.StartAsync(clients);
            using var http = new HttpClient();
            foreach (var broadcaster in broadcasters)
            {
                sent.Add(await SendAsync(http, relay.BaseAddress, broadcaster));
            }

            // Token look-ups, replays and the delivery all wait for the lock meanwhile.
            await Task.Delay(TimeSpan.FromSeconds(3));
            await transaction.RollbackAsync();
            releasedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        }

        await using (storm)
        {
            var delivered = await Task.WhenAll(witnesses.Select(async (witness, i) =>
            {
                var envelope = await witness.NextAsync(TimeSpan.FromSeconds(10));
                envelope.Id.Should().Be(sent[i].Id);
                return DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - releasedAt;
            }));
            delivered.Max().Should().BeLessThan(5_000, "delivery resumes by itself once the database is free");

            var (subscribed, failed) = await storm.Ready(TimeSpan.FromSeconds(30));
            (subscribed, failed).Should().Be((clients.Count, 0), storm.Errors);
            var expected = clients.Select((client, index) => (index, sent.Single(w => w.Broadcaster == client.BroadcasterUserId).Id)).ToList();
            await storm.WaitForAsync(expected, TimeSpan.FromSeconds(5));
            var received = storm.Received.Select(r => (r.Client, r.Id)).ToList();
            received.Should().OnlyHaveUniqueItems("a resumed overlay gets what it missed once").And.BeEquivalentTo(expected, "each overlay gets its broadcaster's event");
        }

        sampler.Max.Should().BeLessThanOrEqualTo(DefaultBudget);
        foreach (var witness in witnesses)
        {
            await witness.DisposeAsync();
        }
    }

    /// <summary>
    /// Connects the storm while sending webhooks to the relays in turn, then one more per broadcaster right after;
    /// returns the most connections the relays held at once (by application name prefix) and how often that was sampled.
    /// </summary>
    private static async Task<(long MaxConnections, int Samples)> StormAsync(string connectionString, IReadOnlyList<Uri> relays, string applicationName)
    {
        var broadcasters = Enumerable.Range(0, Broadcasters).Select(_ => TwitchWebhook.NewBroadcasterId()).ToList();
        var clients = await OverlayStorm.CreateClientsAsync(connectionString, relays, broadcasters, OverlaysPerBroadcaster);
        using var http = new HttpClient();
        var sent = new List<SentWebhook>();

        long maxConnections;
        int samples;
        OverlayStorm storm;
        await using (var sampler = new ConnectionSampler(connectionString, applicationName))
        {
            storm = await OverlayStorm.StartAsync(clients);
            var ready = storm.Ready(TimeSpan.FromSeconds(30));
            while (!ready.IsCompleted)
            {
                sent.Add(await SendAsync(http, relays[sent.Count % relays.Count], broadcasters[sent.Count % broadcasters.Count]));
                await Task.WhenAny(ready, Task.Delay(100));
            }

            var (subscribed, failed) = await ready;
            (subscribed, failed).Should().Be((clients.Count, 0), storm.Errors);
            sent.AddRange(await Task.WhenAll(broadcasters.Select((broadcaster, i) => SendAsync(http, relays[i % relays.Count], broadcaster))));

            var expected = sent.SelectMany(webhook => clients
                    .Select((client, index) => (Client: client, Index: index))
                    .Where(c => c.Client.BroadcasterUserId == webhook.Broadcaster && storm.SubscribedAt.TryGetValue(c.Index, out var at) && at < webhook.SentAt)
                    .Select(c => (c.Index, webhook.Id)))
                .ToList();
            await storm.WaitForAsync(expected, DeliveryLimit + TimeSpan.FromSeconds(3));
            maxConnections = sampler.Max;
            samples = sampler.Samples;

            var received = storm.Received.ToList();
            received.GroupBy(r => (r.Client, r.Id)).Where(g => g.Count() > 1).Should().BeEmpty("no overlay gets an event twice");
            var arrivals = received.ToDictionary(r => (r.Client, r.Id), r => r.At);
            var sentAt = sent.ToDictionary(w => w.Id, w => w.SentAt);
            var late = expected
                .Select(e => (e.Index, e.Id, Latency: arrivals.TryGetValue(e, out var at) ? at - sentAt[e.Id] : (long?)null))
                .Where(e => e.Latency is null || e.Latency > DeliveryLimit.TotalMilliseconds)
                .ToList();
            expected.Should().NotBeEmpty();
            late.Should().BeEmpty($"every subscribed overlay receives each of the {sent.Count} webhooks within {DeliveryLimit} ({expected.Count} receipts expected)");
        }

        await storm.DisposeAsync();
        return (maxConnections, samples);
    }

    private static async Task<SentWebhook> SendAsync(HttpClient http, Uri relay, string broadcaster)
    {
        var id = TwitchWebhook.NewMessageId();
        var sentAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var request = TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: id);
        request.RequestUri = new Uri(relay, request.RequestUri!.ToString());
        using var response = await http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.NoContent, "every webhook is acknowledged");
        return new SentWebhook(broadcaster, id, sentAt);
    }

    private static string Named(string connectionString, string applicationName) =>
        new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = applicationName }.ConnectionString;

    private sealed record SentWebhook(string Broadcaster, string Id, long SentAt);
}
