using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EventSubRelay.Events;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary>Test alerts go through the catalogue and fan-out with isTest set, and leave no trace in stored state.</summary>
public sealed class TestAlertTests
{
    private const string StateSnapshot = """
        SELECT concat_ws('|',
            (SELECT count(*) FROM notifications), (SELECT count(*) FROM overlay_events),
            (SELECT string_agg(concat_ws(',', broadcaster_user_id, title, category_id, stream_id, update_message_id), ';') FROM channel_state),
            (SELECT count(*) FROM stream_chatters), (SELECT string_agg(concat_ws(',', id, level), ';') FROM hype_trains),
            (SELECT string_agg(concat_ws(',', id, remaining), ';') FROM gift_bombs), (SELECT count(*) FROM gift_claims))
        """;

    [Fact]
    public async Task Every_event_type_has_a_test_alert_that_reaches_overlays_marked_as_test_and_touches_no_state()
    {
        // One alert of every type, more than the default limit allows in a minute.
        await using var factory = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["Overlay:TestAlertsPerMinute"] = "1000" });
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.SubscribedOverlayAsync(broadcaster);
        var token = overlay.Token;
        // Some real history first, so a test alert could (wrongly) read or change it.
        await factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster, "real"));
        await overlay.WaitForAsync(2);
        var before = await Database.ScalarAsync<string>(factory.ConnectionString, StateSnapshot);

        using var client = Authorized(factory, token);
        var types = EventTypes.OverlayEventTypes.ToList();
        foreach (var type in types)
        {
            using var response = await client.PostAsJsonAsync("/api/test-alerts", new { type });
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"a test alert exists for {type}");
            var ids = (await response.Content.ReadFromJsonAsync<JsonObject>())!["ids"]!.AsArray();
            ids.Should().ContainSingle($"one {type} alert is sent");
        }

        var received = (await overlay.WaitForAsync(2 + types.Count)).Skip(2).ToList();
        received.Select(e => e.Event.Type).Should().Equal(types);
        received.Should().OnlyContain(e => e.IsTest && e.Seq == 0 && e.BroadcasterUserId == broadcaster);
        JsonNode.Parse(received.Single(e => e.Event.Type == "Follow").Data.GetRawText())!["isTest"]!.GetValue<bool>().Should().BeTrue();
        JsonNode.Parse(received.Single(e => e.Event.Type == "StreamUpdate").Data.GetRawText())!["oldStatus"].Should().BeNull("test alerts never read the stored title");
        (await Database.ScalarAsync<string>(factory.ConnectionString, StateSnapshot)).Should().Be(before, "test alerts never store, deduplicate or derive from state");

        // A real chat message from a new chatter still gets its first words: the test chat message recorded nobody.
        var chat = TwitchWebhook.ChatEvent(broadcaster, "hi");
        chat["chatter_user_id"] = "67891";
        var real = await factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", chat);
        var marker = await factory.SendNotificationAsync(broadcaster);
        (await overlay.ReceivedBeforeAsync(marker)).Select(e => e.Id).Should().EndWith([real, $"{real}:FirstWord"]);
    }

    [Fact]
    public async Task Unknown_or_missing_types_get_problem_details_and_a_missing_token_is_unauthorized()
    {
        await using var factory = await RelayFactory.StartAsync();
        var token = await factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId());
        using var client = Authorized(factory, token);

        using var unknown = await client.PostAsJsonAsync("/api/test-alerts", new { type = "Explosion" });
        using var missing = await client.PostAsJsonAsync("/api/test-alerts", new { });
        using var anonymous = await factory.CreateRelayClient().PostAsJsonAsync("/api/test-alerts", new { type = "Follow" });

        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        unknown.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await unknown.Content.ReadAsStringAsync()).Should().Contain("Explosion").And.Contain("Follow");
        missing.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_token_over_its_test_alerts_per_minute_gets_429_problem_details_with_retry_after_and_other_tokens_still_send()
    {
        await using var factory = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["Overlay:TestAlertsPerMinute"] = "5" });
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.SubscribedOverlayAsync(broadcaster);
        using var flooding = Authorized(factory, overlay.Token);
        // Another token of the same broadcaster, and so from the same address: the limit is the token's own.
        using var other = Authorized(factory, await factory.CreateOverlayTokenAsync(broadcaster, "second"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await flooding.PostAsJsonAsync("/api/test-alerts", new { type = "Follow" });
            statuses.Add(response.StatusCode);
        }

        using var refused = await flooding.PostAsJsonAsync("/api/test-alerts", new { type = "Follow" });
        using var fromOther = await other.PostAsJsonAsync("/api/test-alerts", new { type = "Cheer" });

        statuses.Should().Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)]);
        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        problem["status"]!.GetValue<int>().Should().Be(429);
        problem["detail"]!.GetValue<string>().Should().Contain("5");
        refused.Headers.RetryAfter!.Delta!.Value.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(TimeSpan.FromMinutes(1));
        fromOther.StatusCode.Should().Be(HttpStatusCode.OK, "another token has its own allowance");

        var marker = await factory.SendNotificationAsync(broadcaster);
        (await overlay.ReceivedBeforeAsync(marker)).Select(e => e.Event.Type).Should().Equal([.. Enumerable.Repeat("Follow", 5), "Cheer"], "refused alerts are not sent");
    }

    private static HttpClient Authorized(RelayFactory factory, string token)
    {
        var client = factory.CreateRelayClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
