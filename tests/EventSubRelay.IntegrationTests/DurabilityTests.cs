using System.Net;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace EventSubRelay.IntegrationTests;

/// <summary>What happens when the database is away, busy, or the relay restarts.</summary>
public sealed class DurabilityTests
{
    [Fact]
    public async Task A_commit_that_takes_longer_than_the_acknowledge_timeout_is_answered_503_and_stored_once_it_can_be()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        await using var factory = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["Queue:AcknowledgeTimeoutSeconds"] = "1" }, connectionString: connectionString);
        using var client = factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var body = TwitchWebhook.NotificationBody(broadcaster);
        var messageId = TwitchWebhook.NewMessageId();

        await using (var locker = new NpgsqlConnection(connectionString))
        {
            await locker.OpenAsync();
            await using var transaction = await locker.BeginTransactionAsync();
            await Database.ExecuteAsync(locker, "LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE");
            var started = System.Diagnostics.Stopwatch.StartNew();
            using var waited = await client.SendAsync(TwitchWebhook.Request(body, messageId: messageId));

            waited.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            waited.Headers.RetryAfter.Should().NotBeNull();
            started.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9)).And.BeLessThan(TimeSpan.FromSeconds(5), "the wait ends at the timeout");
            await transaction.RollbackAsync();
        }

        // The notification was still queued: it is stored once the lock is gone, and Twitch's retry is a duplicate.
        await Database.WaitForAsync(connectionString, $"SELECT count(*) = 1 FROM notifications WHERE message_id = '{messageId}'");
        using var retry = await client.SendAsync(TwitchWebhook.Request(body, messageId: messageId));
        retry.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await Database.CountAsync(connectionString, "SELECT count(*) FROM notifications WHERE message_id = @id", ("id", messageId))).Should().Be(1);
    }

    [Fact]
    public async Task Database_outage_answers_503_with_retry_after_and_recovers_when_it_returns()
    {
        await using var server = await PostgresServer.StartNewAsync();
        await using var factory = await RelayFactory.StartAsync(server: server);
        using var client = factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.SubscribedOverlayAsync(broadcaster);

        await server.StopAsync();
        var body = TwitchWebhook.NotificationBody(broadcaster);
        var messageId = TwitchWebhook.NewMessageId();
        using var during = await client.SendAsync(TwitchWebhook.Request(body, messageId: messageId));
        using var readyDuring = await client.GetAsync("/readyz");
        using var liveDuring = await client.GetAsync("/healthz");

        during.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        during.Headers.RetryAfter.Should().NotBeNull();
        during.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        readyDuring.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        liveDuring.StatusCode.Should().Be(HttpStatusCode.OK);

        await server.StartAsync();
        // Twitch retries the same message; the first retry after the database is back succeeds.
        using var retry = await client.SendAsync(TwitchWebhook.Request(body, messageId: messageId));
        using var readyAfter = await client.GetAsync("/readyz");

        retry.StatusCode.Should().Be(HttpStatusCode.NoContent);
        readyAfter.StatusCode.Should().Be(HttpStatusCode.OK);
        (await overlay.NextAsync()).Id.Should().Be(messageId);
    }

    [Fact]
    public async Task A_send_that_fails_after_its_events_were_stored_is_retried_without_losing_or_repeating_any()
    {
        var sends = (FailingGroupSends?)null;
        await using var factory = await RelayFactory.StartAsync(services: services => services.AddSingleton<HubLifetimeManager<OverlayHub>>(provider =>
            sends = ActivatorUtilities.CreateInstance<FailingGroupSends>(provider)));
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.SubscribedOverlayAsync(broadcaster);

        // A first chat message makes two events, ChatMessage then FirstWord: the first goes out, the second's send fails.
        sends!.FailAfter(1);
        var chat = await factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster));
        var marker = await factory.SendNotificationAsync(broadcaster);

        var received = await overlay.ReceivedBeforeAsync(marker);
        received.Select(e => (e.Id, e.Event.Type)).Should().Equal((chat, "ChatMessage"), ($"{chat}:FirstWord", "FirstWord"));
        factory.Logs.Rendered().Should().Contain(line => line.Contains("retrying", StringComparison.Ordinal), "the failed send was retried, not skipped");
    }

    [Fact]
    public async Task Overlays_keep_receiving_while_delivery_marks_wait_for_the_database()
    {
        string connectionString;
        var sent = new List<string>();
        Task<long> UnmarkedAsync() => Database.CountAsync(connectionString, $"SELECT count(*) FROM {Database.Undelivered} AND n.message_id = ANY(@ids)", ("ids", sent.ToArray()));
        await using (var factory = await RelayFactory.StartAsync())
        {
            connectionString = factory.ConnectionString;
            var broadcaster = TwitchWebhook.NewBroadcasterId();
            await using var overlay = await factory.SubscribedOverlayAsync(broadcaster);

            // Recording a delivery (the watermark's row) waits for a lock this test holds; storing a notification does not.
            const long gate = 4_000_000_101;
            await Database.ExecuteAsync(connectionString, $$"""
                CREATE FUNCTION wait_for_gate() RETURNS trigger LANGUAGE plpgsql AS $body$
                BEGIN PERFORM pg_advisory_xact_lock_shared({{gate}}); RETURN NEW; END $body$;
                CREATE TRIGGER marks_wait_for_gate BEFORE INSERT OR UPDATE ON delivery_watermarks FOR EACH ROW EXECUTE FUNCTION wait_for_gate();
                """);
            await using var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
            await holder.OpenAsync();
            await new NpgsqlCommand($"SELECT pg_advisory_lock({gate})", holder).ExecuteNonQueryAsync();

            for (var i = 0; i < 3; i++)
            {
                sent.Add(await factory.SendNotificationAsync(broadcaster));
                (await overlay.NextAsync()).Id.Should().Be(sent[^1], "a held-up mark must not hold up the next delivery");
            }

            (await UnmarkedAsync()).Should().Be(sent.Count, "the marks are still waiting for the lock");
            await holder.CloseAsync();
        }

        // Shutdown finishes the marks that were waiting.
        (await UnmarkedAsync()).Should().Be(0);
    }

    [Fact]
    public async Task Notifications_stored_but_not_delivered_before_a_restart_are_delivered_first()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        string token;
        await using (var before = await RelayFactory.StartAsync(connectionString: connectionString))
        {
            token = await before.CreateOverlayTokenAsync(broadcaster);
        }

        // As if the relay died right after the commit, before fan-out.
        var stranded = TwitchWebhook.NewMessageId();
        await Database.ExecuteAsync(connectionString, """
            INSERT INTO notifications (message_id, subscription_id, subscription_type, subscription_version, broadcaster_user_id,
                                       message_timestamp, received_at, retry_count, payload)
            VALUES (@id, 'sub', 'channel.follow', '2', @broadcaster, now(), now(), 0, @payload)
            """, ("id", stranded), ("broadcaster", broadcaster), ("payload", TwitchWebhook.NotificationBody(broadcaster)));

        await using (var after = await RelayFactory.StartAsync(connectionString: connectionString))
        {
            await using var overlay = await after.ConnectSubscribedAsync(token, afterSeq: 0);
            (await overlay.NextAsync()).Id.Should().Be(stranded);
        }

        // Marking runs behind the sends; a stopped relay has finished it.
        (await Database.CountAsync(connectionString, $"SELECT count(*) FROM {Database.Undelivered}")).Should().Be(0);
        (await Database.CountAsync(connectionString, "SELECT count(*) FROM overlay_events WHERE id = @id", ("id", stranded))).Should().Be(1);
    }

    [Fact]
    public async Task Undelivered_notifications_of_a_stopped_instance_are_adopted_but_a_live_instances_are_left_to_it()
    {
        await using var factory = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["Queue:OrphanSweepSeconds"] = "1" });
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.SubscribedOverlayAsync(broadcaster);

        // Another instance that is alive holds its lease; one that crashed does not.
        const long liveInstance = 4_000_000_001, crashedInstance = 4_000_000_002;
        await using var liveLease = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(factory.ConnectionString) { Pooling = false }.ConnectionString);
        await liveLease.OpenAsync();
        await new NpgsqlCommand($"SELECT pg_advisory_lock({liveInstance})", liveLease).ExecuteNonQueryAsync();
        var ofLive = await InsertUndeliveredAsync(factory.ConnectionString, broadcaster, liveInstance);
        var ofCrashed = await InsertUndeliveredAsync(factory.ConnectionString, broadcaster, crashedInstance);

        (await overlay.NextAsync()).Id.Should().Be(ofCrashed);
        (await Database.CountAsync(factory.ConnectionString, $"SELECT count(*) FROM {Database.Undelivered} AND n.message_id = @id", ("id", ofLive)))
            .Should().Be(1, "its owner is alive and delivers it itself");

        // The live instance stops: its session, and with it the lease, ends.
        await liveLease.CloseAsync();
        (await overlay.NextAsync()).Id.Should().Be(ofLive);
        overlay.All.Select(e => e.Id).Should().Equal(ofCrashed, ofLive);
    }

    private static async Task<string> InsertUndeliveredAsync(string connectionString, string broadcaster, long owner)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var id = TwitchWebhook.NewMessageId();
        await InsertUndeliveredAsync(connection, id, broadcaster, owner);
        return id;
    }

    /// <summary>A notification as another instance stores it, before it delivers it.</summary>
    private static Task InsertUndeliveredAsync(NpgsqlConnection connection, string id, string broadcaster, long owner) =>
        Database.ExecuteAsync(connection, """
            INSERT INTO notifications (message_id, subscription_id, subscription_type, subscription_version, broadcaster_user_id,
                                       message_timestamp, received_at, retry_count, payload, ingested_by)
            VALUES (@id, 'sub', 'channel.follow', '2', @broadcaster, now(), now(), 0, @payload, @owner)
            """, ("id", id), ("broadcaster", broadcaster), ("payload", TwitchWebhook.NotificationBody(broadcaster)), ("owner", owner));

    [Fact]
    public async Task Full_queue_answers_503_and_every_acknowledged_notification_is_stored()
    {
        await using var factory = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["Queue:Capacity"] = "1" });
        using var client = factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();

        // Hold the table so the worker's commit waits: the queue behind it fills up.
        await using var blocker = new NpgsqlConnection(factory.ConnectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await new NpgsqlCommand("LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE", blocker, transaction).ExecuteNonQueryAsync();

        var ids = Enumerable.Range(0, 6).Select(_ => TwitchWebhook.NewMessageId()).ToList();
        var sends = ids.Select(id => client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: id))).ToList();
        // One batch waits in the worker and one request in the queue; the rest are refused at once.
        var waiting = sends.ToList();
        var rejected = new List<HttpResponseMessage>();
        while (rejected.Count < 3)
        {
            var done = await Task.WhenAny(waiting);
            waiting.Remove(done);
            rejected.Add(await done);
        }

        await transaction.RollbackAsync();
        var responses = await Task.WhenAll(sends);

        rejected.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.ServiceUnavailable && r.Headers.RetryAfter != null);
        var acknowledged = ids.Where((_, i) => responses[i].StatusCode == HttpStatusCode.NoContent).ToList();
        acknowledged.Should().NotBeEmpty();
        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.NoContent || r.StatusCode == HttpStatusCode.ServiceUnavailable);
        (await Database.CountAsync(factory.ConnectionString, "SELECT count(*) FROM notifications WHERE message_id = ANY(@ids)", ("ids", acknowledged.ToArray())))
            .Should().Be(acknowledged.Count);
    }

    [Fact]
    public async Task Graceful_shutdown_stores_every_notification_it_acknowledged()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var factory = await RelayFactory.StartAsync(connectionString: connectionString);
        using var client = factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var ids = Enumerable.Range(0, 200).Select(_ => TwitchWebhook.NewMessageId()).ToList();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        factory.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(stopping.SetResult);

        // Commits wait behind this lock, so every request is still in flight when shutdown begins.
        await using var holder = new NpgsqlConnection(connectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await Database.ExecuteAsync(holder, "LOCK TABLE notifications IN SHARE ROW EXCLUSIVE MODE");
        var sends = ids.Select(async id =>
        {
            try
            {
                using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: id));
                return (Id: id, Status: response.StatusCode, AfterStop: stopping.Task.IsCompleted);
            }
            catch (HttpRequestException)
            {
                return (Id: id, Status: (HttpStatusCode)0, AfterStop: true);
            }
        }).ToList();
        await Database.WaitForAsync(connectionString, "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO notifications%'");

        var shutdown = factory.DisposeAsync().AsTask();
        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await hold.CommitAsync();
        await shutdown;
        var results = await Task.WhenAll(sends);

        var acknowledged = results.Where(r => r.Status == HttpStatusCode.NoContent).ToList();
        acknowledged.Should().Contain(r => r.AfterStop, "requests in flight when shutdown began are drained, not dropped");
        (await Database.CountAsync(connectionString, "SELECT count(*) FROM notifications WHERE message_id = ANY(@ids)", ("ids", acknowledged.Select(r => r.Id).ToArray())))
            .Should().Be(acknowledged.Count);
        (await Database.CountAsync(connectionString, $"SELECT count(*) FROM {Database.Undelivered} AND n.message_id = ANY(@ids)", ("ids", acknowledged.Select(r => r.Id).ToArray())))
            .Should().Be(0, "shutdown finishes delivery of what it committed");
    }

    [Fact]
    public async Task Batches_racing_over_the_same_message_ids_wait_for_each_other_instead_of_deadlocking()
    {
        await using var factory = await RelayFactory.StartAsync();
        var store = factory.Services.GetRequiredService<Processing.NotificationStore>();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        // "a…" sorts before "b…" in any collation.
        var first = "a-" + TwitchWebhook.NewMessageId();
        var second = "b-" + TwitchWebhook.NewMessageId();
        const long otherInstance = 4_000_000_003;

        // Another instance's batch has stored `first` and not committed yet.
        await using var other = new NpgsqlConnection(factory.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await InsertUndeliveredAsync(other, first, broadcaster, otherInstance);

        // This instance's batch has them in the other order (a Twitch retry racing the original): it must wait for
        // `first` before it takes `second`, otherwise the other batch's `second` below closes a deadlock.
        var racing = store.InsertNewAsync([Incoming(second, broadcaster), Incoming(first, broadcaster)], CancellationToken.None);
        await WaitUntilBlockedAsync(factory.ConnectionString, other.ProcessID);
        await InsertUndeliveredAsync(other, second, broadcaster, otherInstance);
        await transaction.CommitAsync();

        (await racing).Should().BeEmpty("the other instance stored both first");
        (await Database.CountAsync(factory.ConnectionString, "SELECT count(*) FROM notifications WHERE message_id = ANY(@ids)", ("ids", new[] { first, second }))).Should().Be(2);
    }

    [Fact]
    public async Task Sequence_numbers_follow_the_order_notifications_arrived_in()
    {
        await using var factory = await RelayFactory.StartAsync();
        var store = factory.Services.GetRequiredService<Processing.NotificationStore>();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var ids = new[] { "c-" + TwitchWebhook.NewMessageId(), "a-" + TwitchWebhook.NewMessageId(), "b-" + TwitchWebhook.NewMessageId() };

        var inserted = await store.InsertNewAsync(ids.Select(id => Incoming(id, broadcaster)).ToList(), CancellationToken.None);

        inserted.OrderBy(i => i.Seq).Select(i => i.MessageId).Should().Equal(ids);
    }

    private static Processing.IncomingNotification Incoming(string messageId, string broadcaster) =>
        new(messageId, "sub", "channel.follow", "2", broadcaster, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 0, TwitchWebhook.NotificationBody(broadcaster));

    /// <summary>Waits until some session waits for a lock held by <paramref name="holder"/>.</summary>
    private static async Task WaitUntilBlockedAsync(string connectionString, int holder)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await Database.CountAsync(connectionString, "SELECT count(*) FROM pg_stat_activity WHERE @holder = ANY(pg_blocking_pids(pid))", ("holder", holder)) == 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the racing batch should be waiting for the other instance's row");
            await Task.Delay(20);
        }
    }
}
