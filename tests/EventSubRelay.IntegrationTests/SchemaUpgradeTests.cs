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

    /// <summary>The last migration before delivery watermarks replaced <c>notifications.delivered_at</c>.</summary>
    private const string BeforeDeliveryWatermarks = "20261207061647_DeadLetters";

    /// <summary>The last migration before overlay event data became text.</summary>
    private const string BeforeDataAsText = "20261207092813_DeliveryWatermarks";

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

    [Fact]
    public async Task Notifications_left_undelivered_before_delivery_watermarks_are_delivered_after_the_upgrade_and_delivered_ones_are_not()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        await MigrateToAsync(connectionString, BeforeDeliveryWatermarks);
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        // Rows of the previous version: from before instances owned their rows (0), and of an instance that crashed with
        // some delivered and some not, one delivered out of order (its lane finished first) and one set aside.
        const long crashed = 4_000_000_301;
        var rows = new (string Name, long Owner, bool Delivered, bool DeadLettered)[]
        {
            ("legacy-delivered", 0, true, false), ("legacy-undelivered", 0, false, false),
            ("crashed-delivered", crashed, true, false), ("crashed-set-aside", crashed, true, true),
            ("crashed-undelivered", crashed, false, false), ("crashed-delivered-out-of-order", crashed, true, false),
        };
        var ids = new Dictionary<string, string>();
        foreach (var (name, owner, delivered, deadLettered) in rows)
        {
            ids[name] = TwitchWebhook.NewMessageId();
            await Database.ExecuteAsync(connectionString, """
                INSERT INTO notifications (message_id, subscription_id, subscription_type, subscription_version, broadcaster_user_id,
                                           message_timestamp, received_at, retry_count, payload, ingested_by, delivered_at, dead_lettered_at, delivery_error)
                VALUES (@id, 'sub', 'channel.follow', '2', @broadcaster, now(), now(), 0, @payload, @owner,
                        CASE WHEN @delivered THEN now() END, CASE WHEN @dead THEN now() END, CASE WHEN @dead THEN 'XX000: refused' END)
                """, ("id", ids[name]), ("broadcaster", broadcaster), ("payload", TwitchWebhook.NotificationBody(broadcaster)), ("owner", owner),
                ("delivered", delivered), ("dead", deadLettered));
        }

        await using (var relay = await RelayFactory.StartAsync(connectionString: connectionString))
        {
            var token = await relay.CreateOverlayTokenAsync(broadcaster);
            await using var live = await relay.ConnectSubscribedAsync(token, afterSeq: 0);
            var fresh = await relay.SendNotificationAsync(broadcaster);

            // What was not delivered goes out (the one delivered out of order once more: above the first undelivered
            // one, nothing says it was), nothing that was delivered or set aside, then the new one.
            (await live.ReceivedBeforeAsync(fresh)).Select(e => e.Id).Should().Equal(
                ids["legacy-undelivered"], ids["crashed-undelivered"], ids["crashed-delivered-out-of-order"]);

            // Replayable: a client that reconnects from the start gets them again, in order.
            await using var replay = await relay.ConnectSubscribedAsync(token, afterSeq: 0);
            (await replay.ReceivedBeforeAsync(fresh)).Select(e => e.Id).Should().Equal(
                ids["legacy-undelivered"], ids["crashed-undelivered"], ids["crashed-delivered-out-of-order"]);
        }

        (await Database.CountAsync(connectionString, $"SELECT count(*) FROM {Database.Undelivered}")).Should().Be(0, "a stopped relay has recorded what it delivered");
        (await Database.CountAsync(connectionString, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'notifications' AND column_name = 'delivered_at'"))
            .Should().Be(0);
    }

    [Fact]
    public async Task Overlay_events_stored_as_jsonb_before_the_upgrade_are_replayed_with_their_data_after_it()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        await MigrateToAsync(connectionString, BeforeDataAsText);
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var stored = TwitchWebhook.NewMessageId();
        await Database.ExecuteAsync(connectionString, """
            INSERT INTO overlay_events (seq, id, notification_message_id, broadcaster_user_id, type, is_test, time_stamp, data)
            VALUES (1, @id, @id, @broadcaster, 'Follow', false, now(), '{"userName": "stored_before", "nested": {"n": 1}}'::jsonb)
            """, ("id", stored), ("broadcaster", broadcaster));

        await using (var relay = await RelayFactory.StartAsync(connectionString: connectionString))
        {
            var token = await relay.CreateOverlayTokenAsync(broadcaster);
            await using var replay = await relay.ConnectSubscribedAsync(token, afterSeq: 0);
            var fresh = await relay.SendNotificationAsync(broadcaster);

            var received = await replay.ReceivedBeforeAsync(fresh);
            received.Select(e => e.Id).Should().Equal(stored);
            received[0].Data.GetProperty("userName").GetString().Should().Be("stored_before");
            received[0].Data.GetProperty("nested").GetProperty("n").GetInt32().Should().Be(1);
        }

        (await Database.ScalarAsync<string>(connectionString, "SELECT data_type FROM information_schema.columns WHERE table_name = 'overlay_events' AND column_name = 'data'"))
            .Should().Be("text");
    }

    private static async Task MigrateToAsync(string connectionString, string migration)
    {
        await using var db = new RelayDbContext(new DbContextOptionsBuilder<RelayDbContext>().UseNpgsql(connectionString).Options);
        await db.GetService<IMigrator>().MigrateAsync(migration);
    }
}
