using System.Text;
using EventSubRelay.Webhooks;

namespace EventSubRelay.Tests;

public sealed class EventSubMessageTests
{
    private const string Subscription = """
        "subscription": {"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "type": "channel.raid", "version": "1", "status": "enabled",
                         "condition": {"to_broadcaster_user_id": "1337"}}
        """;

    [Fact]
    public void Reads_the_raid_target_as_the_broadcaster()
    {
        var parsed = Parse("notification", $$"""{ {{Subscription}}, "event": {"viewers": 9001} }""", out var message, out _);

        parsed.Should().BeTrue();
        message.Should().BeOfType<NotificationMessage>().Which.Subscription.BroadcasterUserId.Should().Be("1337");
    }

    [Fact]
    public void An_app_wide_subscription_s_event_goes_to_the_channel_the_event_names()
    {
        var body = """
            { "subscription": {"id": "x", "type": "extension.bits_transaction.create", "version": "1", "status": "enabled", "condition": {"extension_client_id": "deadbeef"}},
              "event": {"extension_client_id": "deadbeef", "id": "t1", "broadcaster_user_id": "1337", "user_id": "42", "product": {"name": "Boost", "sku": "boost", "bits": 100, "in_development": false}} }
            """;

        Parse("notification", body, out var message, out _).Should().BeTrue();

        message.Should().BeOfType<NotificationMessage>().Which.Subscription.BroadcasterUserId.Should().Be("1337");
    }

    [Fact]
    public void An_app_wide_subscription_s_event_that_names_no_channel_goes_to_none()
    {
        var body = """
            { "subscription": {"id": "x", "type": "user.authorization.revoke", "version": "1", "status": "enabled", "condition": {"client_id": "deadbeef"}},
              "event": {"client_id": "deadbeef", "user_id": "1337", "user_login": "someone", "user_name": "Someone"} }
            """;

        Parse("notification", body, out var message, out _).Should().BeTrue();

        message.Should().BeOfType<NotificationMessage>().Which.Subscription.BroadcasterUserId.Should().BeNull();
    }

    [Fact]
    public void Splits_a_batched_notification_into_one_payload_per_event()
    {
        var body = $$"""{ {{Subscription}}, "events": [ {"id": "a", "data": {} }, {"id": "b", "data": {} } ] }""";

        Parse("notification", body, out var message, out _).Should().BeTrue();

        var payloads = message.Should().BeOfType<NotificationMessage>().Which.Payloads;
        payloads.Should().HaveCount(2);
        payloads[1].Should().Contain("\"event\":{\"id\":\"b\"").And.Contain("\"subscription\":");
    }

    [Theory]
    [InlineData("notification", "not json", "not valid JSON")]
    [InlineData("notification", "[1,2]", "JSON object")]
    [InlineData("notification", """{"event": {}}""", "'subscription'")]
    [InlineData("notification", """{"subscription": {"id": "x", "type": "t", "version": "1"}, "event": {}}""", "'status'")]
    [InlineData("notification", """{"subscription": {"id": "x", "type": "t", "version": "1", "status": "enabled"}}""", "'event'")]
    [InlineData("notification", """{"subscription": {"id": "x", "type": "t", "version": "1", "status": "enabled"}, "events": []}""", "'events'")]
    [InlineData("webhook_callback_verification", """{"subscription": {"id": "x", "type": "t", "version": "1", "status": "pending"}}""", "'challenge'")]
    [InlineData("webhook_callback_verification", """{"subscription": {"id": "x", "type": "t", "version": "1", "status": "pending"}, "challenge": 42}""", "'challenge'")]
    [InlineData("something_else", """{"subscription": {"id": "x", "type": "t", "version": "1", "status": "enabled"}}""", "Unknown message type")]
    public void Says_what_is_wrong_with_a_body_that_does_not_match_its_type(string type, string body, string expected)
    {
        Parse(type, body, out _, out var error).Should().BeFalse();
        error.Should().Contain(expected);
    }

    private static bool Parse(string type, string body, out EventSubMessage? message, out string? error) =>
        EventSubMessage.TryParse(type, Encoding.UTF8.GetBytes(body), out message, out error);
}
