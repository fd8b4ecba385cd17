using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;
using Npgsql;

namespace EventSubRelay.IntegrationTests;

/// <summary>What PostgreSQL cannot store or index is refused before the acknowledgement, and never fails its neighbours.</summary>
public sealed class WebhookBoundsTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    private RelayFactory Factory => relay.Factory;

    public static TheoryData<string, Func<string, HttpRequestMessage>> UnstorableRequests()
    {
        static string Body(string broadcaster) => TwitchWebhook.NotificationBody(broadcaster);
        static string Events(string broadcaster, int count)
        {
            var events = new JsonArray();
            for (var i = 0; i < count; i++)
            {
                events.Add(new JsonObject { ["id"] = $"entitlement-{i}", ["data"] = new JsonObject { ["user_id"] = "1337" } });
            }

            return new JsonObject
            {
                ["subscription"] = TwitchWebhook.Subscription(broadcaster, "drop.entitlement.grant", "1", "enabled"),
                ["events"] = events,
            }.ToJsonString();
        }

        return new()
        {
            { "NUL in an event field", b => TwitchWebhook.Request(Body(b).Replace("\"awesome_user\"", "\"awe\\u0000some\"", StringComparison.Ordinal)) },
            { "lone high surrogate", b => TwitchWebhook.Request(Body(b).Replace("\"awesome_user\"", "\"awe\\ud800some\"", StringComparison.Ordinal)) },
            { "lone low surrogate", b => TwitchWebhook.Request(Body(b).Replace("\"awesome_user\"", "\"\\udc00\"", StringComparison.Ordinal)) },
            { "number PostgreSQL cannot hold", b => TwitchWebhook.Request(Body(b).Replace("\"viewers\":42", "\"viewers\":1e1000000", StringComparison.Ordinal)) },
            { "4 KB message id", _ => TwitchWebhook.Request(Body(TwitchWebhook.NewBroadcasterId()), messageId: new string('m', 4096)) },
            { "2.7 KB broadcaster_user_id", _ => TwitchWebhook.Request(Body(new string('7', 2700))) },
            { "2.7 KB user_id in the event", b => TwitchWebhook.Request(Body(b).Replace("\"user_id\":\"1337\"", $"\"user_id\":\"{new string('1', 2700)}\"", StringComparison.Ordinal)) },
            { "lone surrogate in the subscription id", b => TwitchWebhook.Request(TwitchWebhook.NotificationBody(b, subscriptionId: "SURROGATE").Replace("SURROGATE", "\\ud800", StringComparison.Ordinal)) },
            { "invalid UTF-8 in the subscription type", b => Signed(Replace(Encoding.UTF8.GetBytes(Body(b)), "channel.follow"u8.ToArray(), [0x63, 0xC3, 0x28])) },
            { "1,001 events", b => TwitchWebhook.Request(Events(b, 1001)) },
        };
    }

    [Theory]
    [MemberData(nameof(UnstorableRequests))]
    public async Task What_cannot_be_stored_is_refused_with_a_problem_and_not_stored(string _, Func<string, HttpRequestMessage> request)
    {
        using var client = Factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        using var message = request(broadcaster);
        var messageId = message.Headers.GetValues("Twitch-Eventsub-Message-Id").Single();

        using var response = await client.SendAsync(message);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        problem["title"]!.GetValue<string>().Should().Be("Invalid message");
        problem["detail"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
        (await CountAsync("SELECT count(*) FROM notifications WHERE message_id = @id OR message_id LIKE @id || '/%'", messageId)).Should().Be(0);
    }

    public static TheoryData<string, string> StorableEscapes() => new()
    {
        { "surrogate pair", "\"\\ud83d\\ude00 awesome\"" },
        { "escaped backslash before u0000", "\"\\\\u0000\"" },
        { "escaped quote", "\"say \\\"hi\\\"\"" },
        { "control character escape", "\"tab\\tnewline\\u000a\"" },
    };

    [Theory]
    [MemberData(nameof(StorableEscapes))]
    public async Task Storable_escapes_and_numbers_are_still_acknowledged(string _, string userName)
    {
        using var client = Factory.CreateRelayClient();
        var body = TwitchWebhook.NotificationBody(TwitchWebhook.NewBroadcasterId())
            .Replace("\"Awesome_User\"", userName, StringComparison.Ordinal)
            .Replace("\"viewers\":42", "\"viewers\":4.2e-7", StringComparison.Ordinal);

        using var response = await client.SendAsync(TwitchWebhook.Request(body));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_notification_the_database_refuses_fails_alone_and_its_neighbours_in_the_batch_are_stored()
    {
        // A row that passes every check at the door but that PostgreSQL refuses anyway.
        await ExecuteAsync("""
            CREATE OR REPLACE FUNCTION refuse_unstorable_test_rows() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'refused for the test' USING ERRCODE = 'data_exception'; END $$;
            CREATE OR REPLACE TRIGGER refuse_unstorable_test_rows BEFORE INSERT ON notifications
            FOR EACH ROW WHEN (NEW.message_id LIKE 'unstorable-%') EXECUTE FUNCTION refuse_unstorable_test_rows();
            """);
        using var client = Factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var valid = Enumerable.Range(0, 60).Select(_ => TwitchWebhook.NewMessageId()).ToList();
        var poison = Enumerable.Range(0, 3).Select(i => $"unstorable-{Guid.NewGuid()}").ToList();

        var requests = valid.Concat(poison).OrderBy(_ => Random.Shared.Next())
            .Select(async id =>
            {
                using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: id));
                return (id, response.StatusCode);
            });
        var answers = await Task.WhenAll(requests);

        answers.Where(a => valid.Contains(a.id)).Select(a => a.StatusCode).Should().AllBeEquivalentTo(HttpStatusCode.NoContent);
        answers.Where(a => poison.Contains(a.id)).Select(a => a.StatusCode).Should().AllBeEquivalentTo(HttpStatusCode.UnprocessableEntity);
        (await CountAsync("SELECT count(*) FROM notifications WHERE broadcaster_user_id = @id", broadcaster)).Should().Be(valid.Count);
    }

    public static TheoryData<string, string, bool, string> MalformedFraming() => new()
    {
        { "bad chunk size", "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", false, "400" },
        { "body shorter than Content-Length, then the client stops sending", "Content-Length: 100\r\n\r\n{\"a\":1}", true, "" },
        { "body slower than the minimum data rate", "Content-Length: 100000\r\n\r\n{\"a\":1", false, "408" },
    };

    [Theory]
    [MemberData(nameof(MalformedFraming))]
    public async Task Malformed_framing_is_a_4xx_without_an_error_log(string _, string rest, bool halfClose, string status)
    {
        var before = Factory.Logs.Events.Count(IsWebhookRequestLine);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Factory.BaseAddress.Host, Factory.BaseAddress.Port);
        var stream = tcp.GetStream();
        var path = $"/eventsub?framing={Guid.NewGuid():N}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n" + rest));
        if (halfClose)
        {
            tcp.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        }

        var answer = await ReadAnswerAsync(stream, TimeSpan.FromSeconds(30));

        if (status.Length > 0)
        {
            answer.Should().StartWith($"HTTP/1.1 {status}");
        }

        answer.Should().NotContain(" 500 ");
        // The request log line is written when the request ends; wait for it before looking for errors.
        await WaitUntilAsync(() => Factory.Logs.Events.Count(IsWebhookRequestLine) > before);
        Factory.Logs.Events.Should().NotContain(e => e.Level >= Serilog.Events.LogEventLevel.Error
            && (e.Exception is Microsoft.AspNetCore.Http.BadHttpRequestException || e.Exception is IOException || e.Properties.ContainsKey("StatusCode") && e.Properties["StatusCode"].ToString() == "500"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_with_broken_framing_is_answered_and_its_connection_closed_without_a_warning(bool clientStopsSending)
    {
        static bool Abnormal(Serilog.Events.LogEvent e) => e.MessageTemplate.Text.StartsWith("Connection processing ended abnormally", StringComparison.Ordinal);
        var before = Factory.Logs.Events.Count(Abnormal);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Factory.BaseAddress.Host, Factory.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "POST /eventsub HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"));
        if (clientStopsSending)
        {
            tcp.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        }

        // The rest of a body whose framing is broken cannot be found, so the connection cannot carry another request.
        var answer = await ReadToEndAsync(stream, TimeSpan.FromSeconds(5));

        answer.Should().EndWith("(closed)");
        if (!clientStopsSending)
        {
            // A client that stopped sending is taken for gone: Kestrel may close without an answer.
            answer.Should().StartWith("HTTP/1.1 400").And.Contain("Connection: close");
        }

        Factory.Logs.Events.Count(Abnormal).Should().Be(before, "Kestrel is not left to read a next request out of the broken body");
    }

    [Theory]
    [InlineData("POST /eventsub", "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "400")]
    [InlineData("POST /eventsub", "Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n\r\n{\"a\":1}", "400")]
    [InlineData("GET /healthz", "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "200")]
    public async Task A_request_with_upgrade_headers_that_is_not_upgraded_is_answered_and_closed_at_once(string requestLine, string rest, string status)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Factory.BaseAddress.Host, Factory.BaseAddress.Port);
        var stream = tcp.GetStream();
        var started = System.Diagnostics.Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"{requestLine} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n" +
            "Twitch-Eventsub-Message-Id: m1\r\nTwitch-Eventsub-Message-Type: notification\r\nTwitch-Eventsub-Message-Timestamp: 2026-12-07T00:00:00Z\r\n" + rest));

        // Read to the end: the connection cannot carry another request (what follows is not HTTP), so the relay closes it
        // instead of holding it open until the keep-alive timeout (130 s).
        var answer = await ReadToEndAsync(stream, TimeSpan.FromSeconds(5));

        answer.Should().StartWith($"HTTP/1.1 {status}").And.EndWith("(closed)");
        started.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    private static async Task<string> ReadToEndAsync(Stream stream, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, cancel.Token) is var read and > 0)
            {
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            return answer.Append("(closed)").ToString();
        }
        catch (IOException)
        {
            return answer.Append("(closed)").ToString();
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return answer.Append("(still open after the timeout)").ToString();
        }
    }

    [Fact]
    public async Task An_unauthenticated_request_with_a_30_KB_message_id_writes_little_log()
    {
        using var client = Factory.CreateRelayClient();
        var before = Factory.Logs.Rendered().Sum(line => line.Length);

        using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody("4242"), messageId: new string('m', 30_000), secret: "not-the-right-secret"));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        await WaitUntilAsync(() => Factory.Logs.Rendered().Sum(line => line.Length) > before);
        (Factory.Logs.Rendered().Sum(line => line.Length) - before).Should().BeLessThan(2_000);
    }

    private static bool IsWebhookRequestLine(Serilog.Events.LogEvent e) =>
        e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal) && e.Properties.TryGetValue("RequestPath", out var path) && path.ToString() == "\"/eventsub\"";

    private static async Task<string> ReadAnswerAsync(Stream stream, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            var read = await stream.ReadAsync(buffer, cancel.Token);
            return Encoding.ASCII.GetString(buffer, 0, read);
        }
        catch (IOException)
        {
            return "";
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return "(no answer within the timeout)";
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    private static HttpRequestMessage Signed(byte[] body)
    {
        var messageId = TwitchWebhook.NewMessageId();
        var timestamp = TwitchWebhook.Timestamp(DateTimeOffset.UtcNow);
        var signed = Encoding.UTF8.GetBytes(messageId + timestamp).Concat(body).ToArray();
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(TwitchWebhook.Secret), signed));
        var request = new HttpRequestMessage(HttpMethod.Post, "/eventsub") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("Twitch-Eventsub-Message-Id", messageId);
        request.Headers.Add("Twitch-Eventsub-Message-Type", "notification");
        request.Headers.Add("Twitch-Eventsub-Message-Timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("Twitch-Eventsub-Message-Signature", signature);
        return request;
    }

    private static byte[] Replace(byte[] bytes, byte[] what, byte[] with)
    {
        var at = bytes.AsSpan().IndexOf(what);
        return [.. bytes[..at], .. with, .. bytes[(at + what.Length)..]];
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string sql, string id)
    {
        await using var connection = new NpgsqlConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
