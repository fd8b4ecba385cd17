using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;
using Serilog.Events;

namespace EventSubRelay.IntegrationTests;

/// <summary>A committed notification the database refuses to deliver is set aside; it never blocks those behind it.</summary>
public sealed class DeadLetterTests
{
    [Fact]
    public async Task A_notification_the_database_refuses_to_deliver_is_dead_lettered_and_the_others_go_out()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        await using var factory = await RelayFactory.StartAsync(connectionString: connectionString);
        var poisoned = TwitchWebhook.NewBroadcasterId();
        var other = TwitchWebhook.NewBroadcasterId();
        await using var poisonedOverlay = await factory.SubscribedOverlayAsync(poisoned);
        await using var otherOverlay = await factory.SubscribedOverlayAsync(other);
        // Stands in for any refusal retrying cannot fix (an index row too large, a value out of range, …).
        await Database.ExecuteAsync(connectionString, """
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.data::text LIKE '%Poison_User%' THEN
                RAISE EXCEPTION 'index row size 3000 exceeds btree version 4 maximum 2704' USING ERRCODE = '54000';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT ON overlay_events FOR EACH ROW EXECUTE FUNCTION refuse_poison();
            """);

        var poison = await factory.SendNotificationAsync(poisoned, @event: Follow(poisoned, "Poison_User"));
        var next = await factory.SendNotificationAsync(poisoned);
        var others = await factory.SendNotificationAsync(other);

        (await poisonedOverlay.NextAsync(TimeSpan.FromSeconds(15))).Id.Should().Be(next);
        (await otherOverlay.NextAsync(TimeSpan.FromSeconds(15))).Id.Should().Be(others);
        poisonedOverlay.All.Should().ContainSingle("the poison was never sent");
        (await Database.ScalarAsync<string>(connectionString,
                "SELECT delivery_error FROM notifications WHERE message_id = @id AND dead_lettered_at IS NOT NULL", ("id", poison)))
            .Should().StartWith("54000");
        // Set aside counts as done: the delivery watermark passes over it, so the outbox never sends it again.
        await Database.WaitForAsync(connectionString, $"SELECT NOT EXISTS (SELECT 1 FROM {Database.Undelivered} AND n.message_id IN ('{poison}', '{next}'))");
        factory.Logs.Events.Should().Contain(e => e.Level == LogEventLevel.Error && e.RenderMessage(null).Contains(poison, StringComparison.Ordinal) && e.RenderMessage(null).Contains("set aside", StringComparison.Ordinal));
    }

    private static JsonObject Follow(string broadcaster, string userName) => new()
    {
        ["user_id"] = "4040",
        ["user_login"] = userName.ToLowerInvariant(),
        ["user_name"] = userName,
        ["broadcaster_user_id"] = broadcaster,
        ["broadcaster_user_login"] = "streamer",
        ["broadcaster_user_name"] = "Streamer",
        ["followed_at"] = "2026-11-24T10:00:00.123456789Z",
    };
}
