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
