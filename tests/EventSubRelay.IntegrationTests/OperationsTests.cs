using System.Net;
using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Processing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EventSubRelay.IntegrationTests;

public sealed class OperationsTests
{
    [Fact]
    public async Task Logs_never_contain_the_secret_signatures_or_overlay_tokens_and_notification_lines_carry_the_message_id()
    {
        await using var factory = await RelayFactory.StartAsync();
        using var client = factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        string token;
        await using (var overlay = await factory.SubscribedOverlayAsync(broadcaster))
        {
            token = overlay.Token;
            await factory.SendNotificationAsync(broadcaster);
            await overlay.NextAsync();
        }

        var signed = TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster));
        var signatureHex = signed.Headers.GetValues("Twitch-Eventsub-Message-Signature").Single()["sha256=".Length..];
        using (await client.SendAsync(signed))
        {
        }

        var forged = TwitchWebhook.NewMessageId();
        using (await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: forged, secret: "a-guessed-secret-value")))
        {
        }

        using (await client.PostAsync($"/hubs/overlay/negotiate?negotiateVersion=1&access_token={token}x", null))
        {
        }

        var logs = factory.Logs.Rendered().ToList();
        logs.Should().NotBeEmpty();
        logs.Should().NotContain(l => l.Contains(TwitchWebhook.Secret, StringComparison.Ordinal));
        logs.Should().NotContain(l => l.Contains(signatureHex, StringComparison.OrdinalIgnoreCase));
        logs.Should().NotContain(l => l.Contains(token, StringComparison.Ordinal));
        factory.Logs.Events.Should().Contain(e => e.MessageTemplate.Text.StartsWith("Rejected message", StringComparison.Ordinal)
            && e.Properties["MessageId"].ToString().Contains(forged, StringComparison.Ordinal));
        factory.Logs.Events.Should().Contain(e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["StatusCode"].ToString() == "403", "requests are logged, with the path only");
    }

    [Fact]
    public async Task Health_endpoints_report_liveness_and_readiness()
    {
        await using var factory = await RelayFactory.StartAsync();
        using var client = factory.CreateRelayClient();

        using var live = await client.GetAsync("/healthz");
        using var ready = await client.GetAsync("/readyz");
        using var metrics = await client.GetAsync("/metrics");

        live.StatusCode.Should().Be(HttpStatusCode.OK);
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
        metrics.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Retention_deletes_what_is_older_than_the_retention_period_but_keeps_undelivered_notifications()
    {
        var now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(now);
        await using var factory = await RelayFactory.StartAsync(
            new Dictionary<string, string?> { ["Storage:RetentionDays"] = "3" },
            services: services => services.AddSingleton<TimeProvider>(time));
        var cs = factory.ConnectionString;
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        // Owned by the running relay (it holds its lease), so its outbox never adopts and delivers the undelivered one meanwhile.
        var owner = factory.Services.GetRequiredService<Data.InstanceLease>().Key;
        foreach (var (id, age, seq) in new[] { ("old-delivered", 4, 16L), ("old-undelivered", 4, 32L), ("recent", 2, 48L) })
        {
            await Database.ExecuteAsync(cs, """
                INSERT INTO notifications (message_id, subscription_id, subscription_type, subscription_version, broadcaster_user_id,
                                           message_timestamp, received_at, retry_count, payload, ingested_by)
                VALUES (@id, 'sub', 'channel.follow', '2', @broadcaster, @at, @at, 0, '{}', @owner)
                """, ("id", id), ("broadcaster", broadcaster), ("at", now.AddDays(-age)), ("owner", owner));
            await Database.ExecuteAsync(cs, """
                INSERT INTO overlay_events (seq, id, notification_message_id, broadcaster_user_id, type, is_test, time_stamp, data)
                VALUES (@seq, @id, @id, @broadcaster, 'channel.follow', false, @at, '{}')
                """, ("seq", seq), ("id", id), ("broadcaster", broadcaster), ("at", now.AddDays(-age)));
            if (id == "old-delivered")
            {
                // Delivered: the owner's watermark reaches it, and not the ones stored after it.
                await Database.ExecuteAsync(cs, """
                    INSERT INTO delivery_watermarks (instance_key, delivered_through)
                    SELECT ingested_by, seq FROM notifications WHERE message_id = @id
                    """, ("id", id));
            }
        }

        // An instance long gone, whose notifications were all deleted before: its watermark goes too.
        await Database.ExecuteAsync(cs, "INSERT INTO delivery_watermarks (instance_key, delivered_through) VALUES (4000000201, 7)");

        var deleted = await factory.Services.GetRequiredService<RetentionService>().DeleteExpiredAsync(CancellationToken.None);

        deleted.Should().Be((1, 2));
        (await Database.ScalarAsync<string[]>(cs, "SELECT array_agg(message_id ORDER BY message_id) FROM notifications"))
            .Should().Equal("old-undelivered", "recent");
        (await Database.ScalarAsync<string[]>(cs, "SELECT array_agg(id) FROM overlay_events")).Should().Equal("recent");
        (await Database.ScalarAsync<long[]>(cs, "SELECT array_agg(instance_key) FROM delivery_watermarks")).Should().Equal(owner);
    }

    [Theory]
    [InlineData(-600_000_000, HttpStatusCode.NoContent)]
    [InlineData(-600_000_001, HttpStatusCode.Forbidden)]
    [InlineData(600_000_000, HttpStatusCode.NoContent)]
    [InlineData(600_000_001, HttpStatusCode.Forbidden)]
    public async Task Timestamp_window_is_ten_minutes_in_both_directions(long offsetMicroseconds, HttpStatusCode expected)
    {
        var now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
        await using var factory = await RelayFactory.StartAsync(services: services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(now)));
        using var client = factory.CreateRelayClient();
        var timestamp = TwitchWebhook.Timestamp(now.AddTicks(offsetMicroseconds * 10));

        using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(TwitchWebhook.NewBroadcasterId()), timestamp: timestamp));

        response.StatusCode.Should().Be(expected);
    }

    [Fact]
    public async Task Previous_secrets_are_accepted_while_the_secret_is_rotated()
    {
        await using var factory = await RelayFactory.StartAsync(new Dictionary<string, string?>
        {
            ["EventSub:Secret"] = "the-new-webhook-secret",
            ["EventSub:PreviousSecrets:0"] = TwitchWebhook.Secret,
        });
        using var client = factory.CreateRelayClient();
        var body = TwitchWebhook.NotificationBody(TwitchWebhook.NewBroadcasterId());

        using var withOld = await client.SendAsync(TwitchWebhook.Request(body));
        using var withNew = await client.SendAsync(TwitchWebhook.Request(body, secret: "the-new-webhook-secret"));
        using var withOther = await client.SendAsync(TwitchWebhook.Request(body, secret: "some-other-secret"));

        withOld.StatusCode.Should().Be(HttpStatusCode.NoContent);
        withNew.StatusCode.Should().Be(HttpStatusCode.NoContent);
        withOther.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Custom_callback_path_is_served_instead_of_the_default()
    {
        await using var factory = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["EventSub:CallbackPath"] = "/twitch/callback" });
        using var client = factory.CreateRelayClient();
        var body = new JsonObject
        {
            ["challenge"] = "abc",
            ["subscription"] = TwitchWebhook.Subscription("1", "channel.follow", "2", "webhook_callback_verification_pending"),
        }.ToJsonString();

        using var custom = await client.SendAsync(TwitchWebhook.Request(body, "webhook_callback_verification", path: "/twitch/callback"));
        using var old = await client.SendAsync(TwitchWebhook.Request(body, "webhook_callback_verification"));

        custom.StatusCode.Should().Be(HttpStatusCode.OK);
        old.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
