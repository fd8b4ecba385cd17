using System.Net;
using System.Text.Json.Nodes;
using EventSubRelay.Events;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Npgsql;

namespace EventSubRelay.IntegrationTests;

public sealed class WebhookEndpointTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    private RelayFactory Factory => relay.Factory;

    [Fact]
    public async Task Verification_challenge_is_answered_with_exactly_the_challenge_as_plain_text()
    {
        using var client = Factory.CreateRelayClient();
        var body = new JsonObject
        {
            ["challenge"] = "pogchamp-kappa-360noscope-vohiyo",
            ["subscription"] = TwitchWebhook.Subscription(TwitchWebhook.NewBroadcasterId(), "channel.follow", "2", "webhook_callback_verification_pending"),
        }.ToJsonString();

        using var response = await client.SendAsync(TwitchWebhook.Request(body, "webhook_callback_verification"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        (await response.Content.ReadAsStringAsync()).Should().Be("pogchamp-kappa-360noscope-vohiyo");
    }

    [Fact]
    public async Task Notification_is_stored_before_it_is_acknowledged()
    {
        using var client = Factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var messageId = TwitchWebhook.NewMessageId();

        using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: messageId));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var row = await QuerySingleAsync(
            "SELECT subscription_type, subscription_version, broadcaster_user_id, retry_count, payload::jsonb->'event'->>'user_login' FROM notifications WHERE message_id = @id",
            messageId);
        row.Should().Equal("channel.follow", "2", broadcaster, 0, "awesome_user");
    }

    [Fact]
    public async Task Notification_reaches_a_subscribed_overlay_client_as_an_envelope()
    {
        using var client = Factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.SubscribedOverlayAsync(broadcaster);
        var messageId = TwitchWebhook.NewMessageId();

        using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: messageId));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var envelope = await overlay.NextAsync();
        envelope.Id.Should().Be(messageId);
        envelope.Seq.Should().BePositive();
        envelope.BroadcasterUserId.Should().Be(broadcaster);
        envelope.IsTest.Should().BeFalse();
        envelope.Event.Should().Be(new OverlayEventKind("Twitch", "Follow"));
        envelope.Data.GetProperty("userName").GetString().Should().Be("awesome_user");
        envelope.Data.GetProperty("userId").GetInt64().Should().Be(1337);
    }

    [Fact]
    public async Task Repeated_message_id_is_acknowledged_and_delivered_once()
    {
        using var client = Factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.SubscribedOverlayAsync(broadcaster);
        var messageId = TwitchWebhook.NewMessageId();
        var body = TwitchWebhook.NotificationBody(broadcaster);

        // Twitch's retry may race the original or come later.
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => client.SendAsync(TwitchWebhook.Request(body, messageId: messageId))));
        using var later = await client.SendAsync(TwitchWebhook.Request(body, messageId: messageId));
        var marker = TwitchWebhook.NewMessageId();
        using var markerResponse = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: marker));

        concurrent.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.NoContent);
        later.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var before = await overlay.ReceivedBeforeAsync(marker);
        before.Should().ContainSingle(e => e.Id == messageId);
        (await QuerySingleAsync("SELECT count(*) FROM notifications WHERE message_id = @id", messageId)).Should().Equal(1L);
    }

    [Fact]
    public async Task Revocation_records_status_and_reason_and_logs_a_warning()
    {
        using var client = Factory.CreateRelayClient();
        var subscriptionId = Guid.NewGuid().ToString();
        var body = new JsonObject
        {
            ["subscription"] = TwitchWebhook.Subscription(TwitchWebhook.NewBroadcasterId(), "channel.follow", "2", "authorization_revoked", subscriptionId),
        }.ToJsonString();

        using var response = await client.SendAsync(TwitchWebhook.Request(body, "revocation"));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var row = await QuerySingleAsync("SELECT status, type, revoked_at IS NOT NULL FROM eventsub_subscriptions WHERE id = @id", subscriptionId);
        row.Should().Equal("authorization_revoked", "channel.follow", true);
        Factory.Logs.Events.Should().Contain(e => e.Level == Serilog.Events.LogEventLevel.Warning
            && e.Properties.ContainsKey("SubscriptionId") && e.Properties["SubscriptionId"].ToString().Contains(subscriptionId, StringComparison.Ordinal)
            && e.Properties["Status"].ToString().Contains("authorization_revoked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Batched_notification_is_stored_and_delivered_per_event()
    {
        using var client = Factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.SubscribedOverlayAsync(broadcaster, "Raw");
        var messageId = TwitchWebhook.NewMessageId();
        var subscription = TwitchWebhook.Subscription(broadcaster, "drop.entitlement.grant", "1", "enabled");
        var body = new JsonObject
        {
            ["subscription"] = subscription,
            ["events"] = new JsonArray(
                new JsonObject { ["id"] = "grant-1", ["data"] = new JsonObject { ["user_id"] = "1" } },
                new JsonObject { ["id"] = "grant-2", ["data"] = new JsonObject { ["user_id"] = "2" } }),
        }.ToJsonString();

        using var response = await client.SendAsync(TwitchWebhook.Request(body, messageId: messageId));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var received = await overlay.WaitForAsync(2);
        received.Select(e => e.Data.GetProperty("event").GetProperty("id").GetString()).Should().Equal("grant-1", "grant-2");
        received.Should().OnlyContain(e => e.Data.GetProperty("subscriptionType").GetString() == "drop.entitlement.grant");
        received.Select(e => e.Id).Should().OnlyHaveUniqueItems();
        (await QuerySingleAsync("SELECT count(*) FROM notifications WHERE message_id LIKE @id || '/%'", messageId)).Should().Equal(2L);
    }

    public static TheoryData<string, Func<HttpRequestMessage>, HttpStatusCode, string> BadRequests()
    {
        var body = TwitchWebhook.NotificationBody("4242");
        var subscription = TwitchWebhook.Subscription("4242", "channel.follow", "2", "enabled");
        return new()
        {
            { "missing signature", () => TwitchWebhook.Request(body, alterSignature: _ => ""), HttpStatusCode.Forbidden, "Invalid signature" },
            { "wrong secret", () => TwitchWebhook.Request(body, secret: "not-the-right-secret"), HttpStatusCode.Forbidden, "Invalid signature" },
            { "missing prefix", () => TwitchWebhook.Request(body, alterSignature: s => s["sha256=".Length..]), HttpStatusCode.Forbidden, "Invalid signature" },
            { "wrong prefix", () => TwitchWebhook.Request(body, alterSignature: s => "sha512=" + s["sha256=".Length..]), HttpStatusCode.Forbidden, "Invalid signature" },
            { "truncated hex", () => TwitchWebhook.Request(body, alterSignature: s => s[..^2]), HttpStatusCode.Forbidden, "Invalid signature" },
            { "body altered by one byte", () => AlterBody(TwitchWebhook.Request(body), body.Replace("awesome_user", "awesome_usEr", StringComparison.Ordinal)), HttpStatusCode.Forbidden, "Invalid signature" },
            { "timestamp 11 minutes old", () => TwitchWebhook.Request(body, timestamp: TwitchWebhook.Timestamp(DateTimeOffset.UtcNow.AddMinutes(-11))), HttpStatusCode.Forbidden, "Stale timestamp" },
            { "timestamp 11 minutes ahead", () => TwitchWebhook.Request(body, timestamp: TwitchWebhook.Timestamp(DateTimeOffset.UtcNow.AddMinutes(11))), HttpStatusCode.Forbidden, "Stale timestamp" },
            { "malformed timestamp", () => TwitchWebhook.Request(body, timestamp: "yesterday"), HttpStatusCode.BadRequest, "Malformed timestamp" },
            { "missing message id", () => Without(TwitchWebhook.Request(body), "Twitch-Eventsub-Message-Id"), HttpStatusCode.BadRequest, "Missing headers" },
            { "missing timestamp", () => Without(TwitchWebhook.Request(body), "Twitch-Eventsub-Message-Timestamp"), HttpStatusCode.BadRequest, "Missing headers" },
            { "missing message type", () => Without(TwitchWebhook.Request(body), "Twitch-Eventsub-Message-Type"), HttpStatusCode.BadRequest, "Missing headers" },
            { "malformed JSON", () => TwitchWebhook.Request("{\"subscription\": {"), HttpStatusCode.BadRequest, "Invalid message" },
            { "notification without event", () => TwitchWebhook.Request(new JsonObject { ["subscription"] = subscription.DeepClone() }.ToJsonString()), HttpStatusCode.BadRequest, "Invalid message" },
            { "verification without challenge", () => TwitchWebhook.Request(new JsonObject { ["subscription"] = subscription.DeepClone() }.ToJsonString(), "webhook_callback_verification"), HttpStatusCode.BadRequest, "Invalid message" },
            { "unknown message type", () => TwitchWebhook.Request(body, "notification_v2"), HttpStatusCode.BadRequest, "Invalid message" },
            { "body over the limit", () => TwitchWebhook.Request(new string(' ', 1024 * 1024) + body), HttpStatusCode.RequestEntityTooLarge, "Body too large" },
        };
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_gets_a_problem_details_answer_that_says_what_is_wrong(string _, Func<HttpRequestMessage> request, HttpStatusCode status, string title)
    {
        using var client = Factory.CreateRelayClient();

        using var response = await client.SendAsync(request());

        response.StatusCode.Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        problem["title"]!.GetValue<string>().Should().Be(title);
        problem["status"]!.GetValue<int>().Should().Be((int)status);
        problem["detail"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task Oversized_chunked_body_without_content_length_gets_413()
    {
        using var client = Factory.CreateRelayClient();
        var request = TwitchWebhook.Request(new string(' ', 2 * 1024 * 1024) + "{}");
        var bytes = await request.Content!.ReadAsByteArrayAsync();
        request.Content = new StreamContent(new NonSeekableStream(bytes));
        request.Headers.TransferEncodingChunked = true;

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
    }

    private static HttpRequestMessage Without(HttpRequestMessage request, string header)
    {
        request.Headers.Remove(header);
        return request;
    }

    private static HttpRequestMessage AlterBody(HttpRequestMessage request, string body)
    {
        request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        return request;
    }

    private async Task<object?[]> QuerySingleAsync(string sql, string id)
    {
        await using var connection = new NpgsqlConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync();
        (await reader.ReadAsync()).Should().BeTrue("the row should exist");
        var values = new object?[reader.FieldCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        }

        return values;
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
