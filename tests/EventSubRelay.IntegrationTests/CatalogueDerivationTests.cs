using EventSubRelay.Events;
using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// Events derived from earlier notifications. Sequences and restarts are covered by the golden cases
/// (<c>Golden/Cases</c>); these tests cover what those cannot show.
/// </summary>
public sealed class CatalogueDerivationTests
{
    [Fact]
    public async Task First_message_of_a_user_in_each_stream_also_emits_first_words()
    {
        await using var factory = await RelayFactory.StartAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.SubscribedOverlayAsync(broadcaster, "ChatMessage", "FirstWord");

        await factory.SendNotificationAsync(broadcaster, "stream.online", "1", StreamOnline(broadcaster, "stream-1"));
        var hello = await factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster, "hello"));
        await factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster, "again"));
        await factory.SendNotificationAsync(broadcaster, "stream.online", "1", StreamOnline(broadcaster, "stream-2"));
        await factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster, "back"));

        var received = await overlay.WaitForAsync(5);
        received.Select(e => e.Event.Type).Should().Equal("ChatMessage", "FirstWord", "ChatMessage", "ChatMessage", "FirstWord");
        received[1].Id.Should().Be($"{hello}:FirstWord");
        var firstWord = JsonNode.Parse(received[1].Data.GetRawText())!;
        firstWord["message"]!.GetValue<string>().Should().Be("hello");
        firstWord["user"]!["id"]!.GetValue<long>().Should().Be(67890);
        firstWord["user"]!["role"]!.GetValue<int>().Should().Be(1);

        await factory.Services.GetRequiredService<Processing.RetentionService>().DeleteExpiredAsync(CancellationToken.None);
        (await Database.CountAsync(factory.ConnectionString, "SELECT count(*) FROM stream_chatters WHERE broadcaster_user_id = @b AND stream_id = 'stream-1'", ("b", broadcaster)))
            .Should().Be(0, "retention forgets who spoke in streams that have ended");
        (await Database.CountAsync(factory.ConnectionString, "SELECT count(*) FROM stream_chatters WHERE broadcaster_user_id = @b AND stream_id = 'stream-2'", ("b", broadcaster)))
            .Should().Be(1);
    }

    [Fact]
    public async Task Enrichment_that_never_answers_does_not_hold_up_delivery()
    {
        await using var factory = await RelayFactory.StartAsync(services: services => services.AddSingleton<Events.IEventEnricher, SilentEnricher>());
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.SubscribedOverlayAsync(broadcaster, "Raid", "RewardRedemption");

        await factory.SendNotificationAsync(broadcaster, "channel.raid", "1");
        await factory.SendNotificationAsync(broadcaster, "channel.channel_points_custom_reward_redemption.add", "1", Redemption(broadcaster, "r1"));

        var received = await overlay.WaitForAsync(2);
        received[0].Data.GetProperty("profileImage").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        received[1].Data.GetProperty("backgroundColor").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task Deriving_a_notification_again_after_a_retried_batch_gives_the_same_events()
    {
        await using var factory = await RelayFactory.StartAsync();
        var mapper = factory.Services.GetRequiredService<CatalogueMapper>();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var train = Guid.NewGuid().ToString();
        var sequence = new[]
        {
            Notification(broadcaster, "channel.update", "2", ChannelUpdate(broadcaster, "Before", "1", "Old Game")),
            Notification(broadcaster, "channel.update", "2", ChannelUpdate(broadcaster, "After", "2", "New Game")),
            Notification(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster, "first")),
            Notification(broadcaster, "channel.hype_train.begin", "1", HypeTrain(broadcaster, train, level: 1, progress: 500)),
            Notification(broadcaster, "channel.hype_train.progress", "1", HypeTrain(broadcaster, train, level: 2, progress: 100)),
            Notification(broadcaster, "channel.subscription.gift", "1", Gift(broadcaster, total: 1)),
            Notification(broadcaster, "channel.subscribe", "1", GiftedSub(broadcaster, "501")),
        };

        var first = new List<string>();
        foreach (var notification in sequence)
        {
            first.AddRange(Describe(await mapper.MapAsync(notification, CancellationToken.None)));
        }

        // The worker retries a whole batch after a database error: the same notifications are derived again.
        var again = new List<string>();
        foreach (var notification in sequence.Skip(1))
        {
            again.AddRange(Describe(await mapper.MapAsync(notification, CancellationToken.None)));
        }

        again.Should().Equal(first.Skip(1), "the stored state remembers which notification changed it");
        first.Should().Contain(d => d.StartsWith("StreamUpdate", StringComparison.Ordinal) && d.Contains("\"oldStatus\":\"Before\"", StringComparison.Ordinal));
        first.Should().Contain(d => d.StartsWith("FirstWord", StringComparison.Ordinal));
        first.Should().Contain(d => d.StartsWith("HypeTrainLevelUp", StringComparison.Ordinal) && d.Contains("\"prevLevel\":1", StringComparison.Ordinal));
        first.Should().Contain(d => d.StartsWith("GiftSub", StringComparison.Ordinal) && d.Contains("\"fromSubBomb\":true", StringComparison.Ordinal));

        // The single gift was claimed once, by its recipient: another gifted sub does not claim it again.
        var other = await mapper.MapAsync(Notification(broadcaster, "channel.subscribe", "1", GiftedSub(broadcaster, "502")), CancellationToken.None);
        Describe(other).Should().ContainSingle().Which.Should().Contain("\"fromSubBomb\":false");
    }

    [Fact]
    public async Task A_gifted_sub_belongs_to_the_gift_sent_nearest_to_it_never_to_an_earlier_unrelated_one()
    {
        await using var factory = await RelayFactory.StartAsync();
        var mapper = factory.Services.GetRequiredService<CatalogueMapper>();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var start = DateTimeOffset.UtcNow;

        // A bomb of three of which only one recipient's sub arrives: two gifts stay open.
        await mapper.MapAsync(Notification(broadcaster, "channel.subscription.gift", "1", Gift(broadcaster, total: 3, gifter: "generous"), start), CancellationToken.None);
        await mapper.MapAsync(Notification(broadcaster, "channel.subscribe", "1", GiftedSub(broadcaster, "501"), start.AddSeconds(1)), CancellationToken.None);

        // Forty seconds later, someone else gifts one sub: its recipient is theirs, not the bomb's.
        await mapper.MapAsync(Notification(broadcaster, "channel.subscription.gift", "1", Gift(broadcaster, total: 1, gifter: "kind"), start.AddSeconds(40)), CancellationToken.None);
        var lone = await mapper.MapAsync(Notification(broadcaster, "channel.subscribe", "1", GiftedSub(broadcaster, "502"), start.AddSeconds(40)), CancellationToken.None);
        var loneGift = JsonNode.Parse(lone.Should().ContainSingle().Which.Data.GetRawText())!;
        loneGift["userName"]!.GetValue<string>().Should().Be("kind");
        loneGift["subBombCount"]!.GetValue<int>().Should().Be(1);

        // Minutes later, a gifted sub whose gift has not arrived claims nothing left over from the bomb.
        var late = await mapper.MapAsync(Notification(broadcaster, "channel.subscribe", "1", GiftedSub(broadcaster, "503"), start.AddMinutes(3)), CancellationToken.None);
        var lateGift = JsonNode.Parse(late.Should().ContainSingle().Which.Data.GetRawText())!;
        lateGift["fromSubBomb"]!.GetValue<bool>().Should().BeFalse();
        lateGift["userName"].Should().BeNull();
    }

    private static Events.CommittedNotification Notification(string broadcaster, string type, string version, JsonObject @event, DateTimeOffset? at = null) =>
        new(TwitchWebhook.NewMessageId(), Seq: 0, type, version, broadcaster, at ?? DateTimeOffset.UtcNow, new JsonObject { ["event"] = @event }.ToJsonString());

    private static IEnumerable<string> Describe(IReadOnlyList<OverlayEvent> events) =>
        events.Select(e => $"{e.Type} {e.Data.GetRawText()}");

    private static JsonObject Gift(string broadcaster, int total, string gifter = "generous") => new()
    {
        ["user_id"] = gifter == "generous" ? "1234" : "4321", ["user_login"] = gifter, ["user_name"] = gifter.ToUpperInvariant(), ["broadcaster_user_id"] = broadcaster,
        ["broadcaster_user_login"] = "streamer", ["broadcaster_user_name"] = "Streamer", ["total"] = total, ["tier"] = "1000",
        ["cumulative_total"] = 10, ["is_anonymous"] = false,
    };

    private static JsonObject GiftedSub(string broadcaster, string userId) => new()
    {
        ["user_id"] = userId, ["user_login"] = $"lucky{userId}", ["user_name"] = $"Lucky{userId}", ["broadcaster_user_id"] = broadcaster,
        ["broadcaster_user_login"] = "streamer", ["broadcaster_user_name"] = "Streamer", ["tier"] = "1000", ["is_gift"] = true,
    };

    private sealed class SilentEnricher : Events.IEventEnricher
    {
        public Task<string?> ProfileImageAsync(string userId, CancellationToken cancellationToken) => Never<string?>(cancellationToken);

        public Task<Events.RewardDetails?> RewardAsync(string broadcasterUserId, string rewardId, CancellationToken cancellationToken) => Never<Events.RewardDetails?>(cancellationToken);

        public Task<(string? Color, string? ImageUrl)> CheermoteAsync(string broadcasterUserId, string prefix, int bits, CancellationToken cancellationToken) =>
            Never<(string?, string?)>(cancellationToken);

        // Ignores cancellation too, like a hung remote call.
        private static Task<T> Never<T>(CancellationToken _) => new TaskCompletionSource<T>().Task;
    }

    private static JsonObject Redemption(string broadcaster, string rewardId) => new()
    {
        ["id"] = Guid.NewGuid().ToString(),
        ["broadcaster_user_id"] = broadcaster,
        ["broadcaster_user_login"] = "streamer",
        ["broadcaster_user_name"] = "Streamer",
        ["user_id"] = "67890",
        ["user_login"] = "redeemer",
        ["user_name"] = "Redeemer",
        ["user_input"] = "",
        ["status"] = "unfulfilled",
        ["reward"] = new JsonObject { ["id"] = rewardId, ["title"] = "Hydrate", ["cost"] = 100, ["prompt"] = "" },
        ["redeemed_at"] = "2026-11-24T10:00:00Z",
    };

    private static JsonObject ChannelUpdate(string broadcaster, string title, string categoryId, string categoryName) => new()
    {
        ["broadcaster_user_id"] = broadcaster,
        ["broadcaster_user_login"] = "streamer",
        ["broadcaster_user_name"] = "Streamer",
        ["title"] = title,
        ["language"] = "en",
        ["category_id"] = categoryId,
        ["category_name"] = categoryName,
        ["content_classification_labels"] = new JsonArray(),
    };

    private static JsonObject StreamOnline(string broadcaster, string id) => new()
    {
        ["id"] = id,
        ["broadcaster_user_id"] = broadcaster,
        ["broadcaster_user_login"] = "streamer",
        ["broadcaster_user_name"] = "Streamer",
        ["type"] = "live",
        ["started_at"] = "2026-11-24T10:00:00Z",
    };

    private static JsonObject HypeTrain(string broadcaster, string id, int level, int progress) => new()
    {
        ["id"] = id,
        ["broadcaster_user_id"] = broadcaster,
        ["broadcaster_user_login"] = "streamer",
        ["broadcaster_user_name"] = "Streamer",
        ["level"] = level,
        ["total"] = (level - 1) * 1000 + progress,
        ["progress"] = progress,
        ["goal"] = 1000,
        ["top_contributions"] = new JsonArray(new JsonObject { ["user_id"] = "123", ["user_login"] = "pogchamp", ["user_name"] = "PogChamp", ["type"] = "bits", ["total"] = 50 }),
        ["last_contribution"] = new JsonObject { ["user_id"] = "123", ["user_login"] = "pogchamp", ["user_name"] = "PogChamp", ["type"] = "bits", ["total"] = 50 },
        ["started_at"] = "2026-11-24T10:00:00Z",
        ["expires_at"] = "2026-11-24T10:05:00Z",
    };
}
