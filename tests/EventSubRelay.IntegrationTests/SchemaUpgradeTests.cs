using EventSubRelay.Data;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace EventSubRelay.IntegrationTests;

/// <summary>Upgrading a database that already holds notifications: nothing stored before is lost, undelivered or unreplayable.</summary>
public sealed class SchemaUpgradeTests
{
    /// <summary>The last migration before notification payloads became text.</summary>
    private const string BeforePayloadAsText = "20261206195642_StreamerBotCursors";

    [Fact]
    public async Task Notifications_stored_before_the_upgrade_are_delivered_and_replayed_after_it()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        await MigrateToAsync(connectionString, BeforePayloadAsText);
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var stranded = TwitchWebhook.NewMessageId();
        var body = TwitchWebhook.NotificationBody(broadcaster);
        // Stored by the previous version (payload as jsonb) and not delivered before it stopped.
        await Database.ExecuteAsync(connectionString, """
            INSERT INTO notifications (message_id, subscription_id, subscription_type, subscription_version, broadcaster_user_id,
                                       message_timestamp, received_at, retry_count, payload)
            VALUES (@id, 'sub', 'channel.follow', '2', @broadcaster, now(), now(), 0, @payload::jsonb)
            """, ("id", stranded), ("broadcaster", broadcaster), ("payload", body));

        await using (var relay = await RelayFactory.StartAsync(connectionString: connectionString))
        {
            var token = await relay.CreateOverlayTokenAsync(broadcaster);
            await using var live = await relay.ConnectOverlayAsync(token, afterSeq: 0);
            await live.SubscribeAsync("*");
            var delivered = await live.NextAsync();
            delivered.Id.Should().Be(stranded);

            var fresh = await relay.SendNotificationAsync(broadcaster);
            (await live.NextAsync()).Id.Should().Be(fresh);

            // A client that reconnects from the start gets both again, in order.
            await using var replay = await relay.ConnectOverlayAsync(token, afterSeq: 0);
            await replay.SubscribeAsync("*");
            (await replay.NextAsync()).Id.Should().Be(stranded);
            (await replay.NextAsync()).Id.Should().Be(fresh);
        }

        (await Database.ScalarAsync<string>(connectionString, "SELECT payload::jsonb->'event'->>'user_login' FROM notifications WHERE message_id = @id", ("id", stranded)))
            .Should().NotBeNullOrEmpty("the payload survives the change of column type");
        (await Database.ScalarAsync<string>(connectionString, "SELECT data_type FROM information_schema.columns WHERE table_name = 'notifications' AND column_name = 'payload'"))
            .Should().Be("text");
    }

    private static async Task MigrateToAsync(string connectionString, string migration)
    {
        await using var db = new RelayDbContext(new DbContextOptionsBuilder<RelayDbContext>().UseNpgsql(connectionString).Options);
        await db.GetService<IMigrator>().MigrateAsync(migration);
    }
}
