using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using EventSubRelay.Events;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using EventSubRelay.StreamerBot;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSubRelay.IntegrationTests.StreamerBot;

public sealed class StreamerBotFixture : RelayFixture
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["StreamerBot:MaxMessageBytes"] = "4096" };
}

public sealed class StreamerBotEndpointTests(StreamerBotFixture relay) : IClassFixture<StreamerBotFixture>
{
    private RelayFactory Factory => relay.Factory;

    [Fact]
    public async Task Hello_comes_at_once_with_info_and_a_fresh_challenge_per_connection()
    {
        await using var first = await StreamerBotSocket.ConnectAsync(Factory.BaseAddress);
        await using var second = await StreamerBotSocket.ConnectAsync(Factory.BaseAddress);

        var hello = first.Hello;
        hello["request"]!.GetValue<string>().Should().Be("Hello");
        hello.Select(p => p.Key).Should().Equal("timestamp", "session", "request", "info", "authentication");
        hello["info"]!["version"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        hello["info"]!["source"]!.GetValue<string>().Should().Be("websocketServer");
        hello["info"]!["instanceId"]!.GetValue<string>().Should().Be(second.Hello["info"]!["instanceId"]!.GetValue<string>());
        hello["authentication"]!["salt"]!.GetValue<string>().Should().BeEmpty();
        var challenge = hello["authentication"]!["challenge"]!.GetValue<string>();
        Convert.FromBase64String(challenge).Should().HaveCount(32);
        second.Hello["authentication"]!["challenge"]!.GetValue<string>().Should().NotBe(challenge);
    }

    [Fact]
    public async Task The_token_as_password_authenticates_and_the_answer_is_byte_for_byte_the_protocols()
    {
        var token = await Factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId());
        await using var client = await StreamerBotSocket.ConnectAsync(Factory.BaseAddress);

        await client.SendTextAsync($$"""{"request":"Authenticate","authentication":"{{client.AuthenticationFor(token)}}","id":"sb:client:req:1796168157092-1422423863"}""");
        var answer = await ReceiveTextAsync(client.Socket);

        answer.Should().Be("""{"id":"sb:client:req:1796168157092-1422423863","status":"ok"}""");
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_an_error_and_a_policy_close()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await Factory.CreateOverlayTokenAsync(broadcaster);
        await using var client = await StreamerBotSocket.ConnectAsync(Factory.BaseAddress);

        await client.SendTextAsync($$"""{"request":"Authenticate","authentication":"{{client.AuthenticationFor("esr_not-a-real-token")}}","id":"a1"}""");

        (await ReceiveTextAsync(client.Socket)).Should().Be("""{"id":"a1","status":"error","error":"Authentication failed"}""");
        (await client.ClosedAsync()).Should().Be(WebSocketCloseStatus.PolicyViolation);
    }

    [Fact]
    public async Task A_request_before_authenticating_closes_the_socket()
    {
        await using var client = await StreamerBotSocket.ConnectAsync(Factory.BaseAddress);

        await client.SendTextAsync("""{"request":"GetInfo","id":"1"}""");

        (await client.ClosedAsync()).Should().Be(WebSocketCloseStatus.PolicyViolation);
    }

    [Fact]
    public async Task Every_request_is_answered_with_its_id_and_a_status_and_errors_keep_the_socket_open()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var client = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, await Factory.CreateOverlayTokenAsync(broadcaster));

        var info = await client.RequestAsync("GetInfo");
        info["status"]!.GetValue<string>().Should().Be("ok");
        info["info"]!["name"]!.GetValue<string>().Should().Be("EventSubRelay");

        var events = await client.RequestAsync("GetEvents");
        events["events"]!.AsObject().Select(p => p.Key).Should().Equal("Twitch");
        events["events"]!["Twitch"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo(EventTypes.OverlayEventTypes.Distinct());

        var caster = await client.RequestAsync("GetBroadcaster");
        caster["status"]!.GetValue<string>().Should().Be("ok");
        caster["connected"]!.AsArray().Select(p => p!.GetValue<string>()).Should().Equal("twitch");
        caster["platforms"]!["twitch"]!["broadcastUserId"]!.GetValue<string>().Should().Be(broadcaster);

        var pronouns = await client.RequestAsync("GetUserPronouns", new JsonObject { ["platform"] = "twitch", ["userLogin"] = "chatter_fan" });
        JsonNode.DeepEquals(pronouns, JsonNode.Parse($$$"""
            {"id":"{{{pronouns["id"]}}}","status":"ok","userLogin":"chatter_fan","pronoun":{"userFound":false,"pronouns":"","pronounSubject":"","pronounObject":""}}
            """)).Should().BeTrue(pronouns.ToJsonString());

        foreach (var name in new[] { "DoAction", "GetActions", "GetActiveViewers", "GetCredits", "GetGlobals", "GetCommands", "SendMessage" })
        {
            var refused = await client.RequestAsync(name, new JsonObject { ["action"] = new JsonObject { ["name"] = "x" } });
            refused["status"]!.GetValue<string>().Should().Be("error");
            refused["error"]!.GetValue<string>().Should().Be($"{name} is not supported by EventSubRelay");
        }

        var unknown = await client.RequestAsync("MakeCoffee");
        unknown["error"]!.GetValue<string>().Should().Be("Unknown request MakeCoffee");

        var noEvents = await client.RequestAsync("Subscribe");
        noEvents["status"]!.GetValue<string>().Should().Be("error");

        (await client.RequestAsync("GetInfo"))["status"]!.GetValue<string>().Should().Be("ok");
        client.Socket.State.Should().Be(WebSocketState.Open);
    }

    [Fact]
    public async Task Subscribe_names_match_case_insensitively_and_the_answer_echoes_the_connections_set()
    {
        await using var client = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, await Factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId()));

        var first = await client.RequestAsync("Subscribe", JsonNode.Parse("""{"events":{"twitch":["follow","ReSub","NoSuchType"],"General":["Custom"]}}""")!.AsObject());
        var again = await client.SubscribeAsync("Follow", "Cheer");
        var removed = await client.RequestAsync("UnSubscribe", JsonNode.Parse("""{"events":{"Twitch":["Follow"]}}""")!.AsObject());
        var all = await client.RequestAsync("Subscribe", JsonNode.Parse("""{"events":{"Twitch":"*"}}""")!.AsObject());

        first["events"]!["Twitch"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo("Follow", "ReSub");
        again["events"]!["Twitch"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo("Follow", "ReSub", "Cheer");
        removed["events"]!["Twitch"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo("ReSub", "Cheer");
        all["events"]!["Twitch"]!.AsArray().Should().HaveCount(EventTypes.OverlayEventTypes.Distinct().Count());
    }

    [Fact]
    public async Task Events_come_only_after_a_subscription_only_of_subscribed_types_and_broadcaster_with_the_hubs_data()
    {
        var mine = TwitchWebhook.NewBroadcasterId();
        var other = TwitchWebhook.NewBroadcasterId();
        await using var hub = await Factory.SubscribedOverlayAsync(mine);
        var token = hub.Token;
        await using var client = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token, "?catchUp=false");

        var early = await Factory.SendNotificationAsync(mine);
        await hub.NextAsync();
        await client.SubscribeAsync("Follow");
        await Factory.SendNotificationAsync(other);
        await Factory.SendNotificationAsync(mine, "channel.cheer", "1");
        var follow = await Factory.SendNotificationAsync(mine);
        var sent = await hub.ReceivedBeforeAsync(follow);

        var frame = await client.NextAsync();
        frame.Select(p => p.Key).Should().Equal("timeStamp", "event", "data", "eventSubRelay");
        frame["event"]!.ToJsonString().Should().Be("""{"source":"Twitch","type":"Follow"}""");
        var envelope = hub.All.Single(e => e.Id == frame["eventSubRelay"]!["id"]!.GetValue<string>());
        envelope.Id.Should().Be(follow);
        JsonNode.DeepEquals(frame["data"], JsonNode.Parse(envelope.Data.GetRawText())).Should().BeTrue();
        DateTimeOffset.Parse(frame["timeStamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).Should().Be(envelope.TimeStamp);
        frame["eventSubRelay"]!["seq"]!.GetValue<long>().Should().Be(envelope.Seq);
        sent.Select(e => e.Id).Should().Contain(early);
    }

    [Fact]
    public async Task Test_alerts_reach_subscribed_sockets_marked_as_tests()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        await using var client = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token);
        await client.SubscribeAsync("Follow");

        using var http = Factory.CreateRelayClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.PostAsJsonAsync("/api/test-alerts", new { type = "Follow" });
        response.StatusCode.Should().Be(HttpStatusCode.OK);

        var frame = await client.NextAsync();
        frame["event"]!["type"]!.GetValue<string>().Should().Be("Follow");
        frame["eventSubRelay"]!["isTest"]!.GetValue<bool>().Should().BeTrue();
    }

    [Fact]
    public async Task A_reconnecting_token_gets_what_it_missed_first_in_order_then_live_without_duplicates()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        var dropped = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token);
        await dropped.SubscribeAsync("Follow");
        var seen = await Factory.SendNotificationAsync(broadcaster);
        var frame = await dropped.NextAsync();
        frame["eventSubRelay"]!["id"]!.GetValue<string>().Should().Be(seen);
        dropped.Socket.Abort();
        dropped.Socket.Dispose();
        await CursorReachesAsync(Factory.ConnectionString, token, frame["eventSubRelay"]!["seq"]!.GetValue<long>());

        var missed = new[] { await Factory.SendNotificationAsync(broadcaster), await Factory.SendNotificationAsync(broadcaster) };
        await Factory.SendNotificationAsync(broadcaster, "channel.cheer", "1");
        await using var back = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token);
        await back.SubscribeAsync("Follow");
        var live = await Factory.SendNotificationAsync(broadcaster);

        var received = await back.EventsUntilAsync(live);
        received.Select(f => f["eventSubRelay"]!["id"]!.GetValue<string>()).Should().Equal([.. missed, live]);
    }

    [Fact]
    public async Task A_widget_that_opts_out_of_the_catch_up_gets_only_live_events()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        await using (var first = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token))
        {
            await first.SubscribeAsync("Follow");
            await Factory.SendNotificationAsync(broadcaster);
            var frame = await first.NextAsync();
            await CursorReachesAsync(Factory.ConnectionString, token, frame["eventSubRelay"]!["seq"]!.GetValue<long>());
        }

        // Sent while no widget is connected: a hub overlay shows when it has gone out.
        await using (var hub = await Factory.ConnectOverlayAsync(token))
        {
            await hub.SubscribeAsync("Follow");
            await Factory.SendNotificationAsync(broadcaster);
            await hub.NextAsync();
        }

        await using var back = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token, "?catchUp=false");
        await back.SubscribeAsync("Follow");
        var live = await Factory.SendNotificationAsync(broadcaster);

        (await back.EventsUntilAsync(live)).Should().ContainSingle();
    }

    [Fact]
    public async Task A_revoked_tokens_sockets_are_closed_within_seconds()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var client = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, await Factory.CreateOverlayTokenAsync(broadcaster));
        await client.SubscribeAsync("Follow");

        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<OverlayTokens>();
            var id = (await tokens.ListAsync(broadcaster, CancellationToken.None)).Single().Id;
            (await tokens.RevokeAsync(id, CancellationToken.None)).Should().BeTrue();
        }

        (await client.ClosedAsync()).Should().Be(WebSocketCloseStatus.PolicyViolation);
    }

    [Fact]
    public async Task Malformed_binary_and_oversize_messages_are_answered_without_a_crash()
    {
        var token = await Factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId());
        await using var client = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token);

        foreach (var text in new[] { "not json", "[1,2]", "\"Hello\"", """{"request":42,"id":"n"}""", """{"id":"x"}""" })
        {
            await client.SendTextAsync(text);
            (await client.NextAsync())["status"]!.GetValue<string>().Should().Be("error", text);
        }

        await client.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        (await client.NextAsync())["status"]!.GetValue<string>().Should().Be("error");
        (await client.RequestAsync("GetInfo"))["status"]!.GetValue<string>().Should().Be("ok");

        await client.SendTextAsync($$"""{"request":"GetInfo","id":"big","pad":"{{new string('x', 5000)}}"}""");
        (await client.ClosedAsync()).Should().Be(WebSocketCloseStatus.MessageTooBig);

        await using var after = await StreamerBotSocket.AuthenticatedAsync(Factory.BaseAddress, token);
        (await after.RequestAsync("GetInfo"))["status"]!.GetValue<string>().Should().Be("ok");
    }

    [Fact]
    public async Task A_plain_http_request_gets_problem_details()
    {
        using var http = Factory.CreateRelayClient();
        using var response = await http.GetAsync("/streamerbot");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    internal static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        result.EndOfMessage.Should().BeTrue();
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    /// <summary>Waits until the token's stored catch-up cursor has reached <paramref name="seq"/>.</summary>
    internal static async Task CursorReachesAsync(string connectionString, string token, long seq)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(token));
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            await using var command = dataSource.CreateCommand(
                "SELECT c.last_seq FROM streamerbot_cursors c JOIN overlay_tokens t ON t.id = c.token_id WHERE t.token_hash = @hash");
            command.Parameters.Add(new NpgsqlParameter<byte[]>("hash", hash));
            if (await command.ExecuteScalarAsync(timeout.Token) is long stored && stored >= seq)
            {
                return;
            }

            await Task.Delay(20, timeout.Token);
        }
    }
}

public sealed class StreamerBotLimiterFixture : RelayFixture
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Overlay:InvalidTokenAttemptsPerMinute"] = "2" };
}

public sealed class StreamerBotLimiterTests(StreamerBotLimiterFixture relay) : IClassFixture<StreamerBotLimiterFixture>
{
    [Fact]
    public async Task Over_the_invalid_token_limit_a_wrong_token_is_refused_saying_so_and_a_valid_token_still_authenticates()
    {
        var factory = relay.Factory;
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var valid = await factory.CreateOverlayTokenAsync(broadcaster);
        var errors = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            await using var client = await StreamerBotSocket.ConnectAsync(factory.BaseAddress);
            var answer = await client.RequestAsync("Authenticate", new JsonObject { ["authentication"] = client.AuthenticationFor("esr_guess" + attempt) });
            answer["status"]!.GetValue<string>().Should().Be("error");
            errors.Add(answer["error"]!.GetValue<string>());
            (await client.ClosedAsync()).Should().Be(WebSocketCloseStatus.PolicyViolation);
        }

        await using var streamer = await StreamerBotSocket.AuthenticatedAsync(factory.BaseAddress, valid);
        var broadcasterInfo = await streamer.RequestAsync("GetBroadcaster");

        errors.Should().Equal("Authentication failed", "Authentication failed", StreamerBotSession.TooManyInvalidTokens);
        broadcasterInfo["status"]!.GetValue<string>().Should().Be("ok", "a valid token from a limited address gets in, as on the hub");
    }
}
