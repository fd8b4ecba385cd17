using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

/// <summary>Events derived from earlier notifications, across a sequence of them and across a restart.</summary>
public sealed class CatalogueDerivationTests
{
    [Fact]
    public async Task Stream_update_carries_the_previous_title_and_category_even_after_a_restart()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        string token;
        JsonNode first;
        await using (var before = await RelayFactory.StartAsync(connectionString: connectionString))
        {
            token = await before.CreateOverlayTokenAsync(broadcaster);
            await using var overlay = await before.ConnectOverlayAsync(token);
            await overlay.SubscribeAsync("StreamUpdate");
            await before.SendNotificationAsync(broadcaster, "channel.update", "2", ChannelUpdate(broadcaster, "Doing the things!", "516097", "Deadside"));
            first = JsonNode.Parse((await overlay.NextAsync()).Data.GetRawText())!;
        }

        await using var after = await RelayFactory.StartAsync(connectionString: connectionString);
        await using var again = await after.ConnectOverlayAsync(token);
        await again.SubscribeAsync("StreamUpdate");
        await after.SendNotificationAsync(broadcaster, "channel.update", "2", ChannelUpdate(broadcaster, "Mario Party time", "7658", "Mario Party 8"));
        var second = JsonNode.Parse((await again.NextAsync()).Data.GetRawText())!;

        first["oldStatus"].Should().BeNull();
        first["status"]!.GetValue<string>().Should().Be("Doing the things!");
        second["oldStatus"]!.GetValue<string>().Should().Be("Doing the things!");
        JsonNode.DeepEquals(second["oldGame"], JsonNode.Parse("""{"id":516097,"name":"Deadside"}""")).Should().BeTrue();
        JsonNode.DeepEquals(second["game"], JsonNode.Parse("""{"id":7658,"name":"Mario Party 8"}""")).Should().BeTrue();
    }

    [Fact]
    public async Task First_message_of_a_user_in_each_stream_also_emits_first_words()
    {
        await using var factory = await RelayFactory.StartAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.ConnectOverlayAsync(await factory.CreateOverlayTokenAsync(broadcaster));
        await overlay.SubscribeAsync("ChatMessage", "FirstWord");

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
    public async Task Hype_train_level_up_is_announced_once_per_new_level()
    {
        await using var factory = await RelayFactory.StartAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.ConnectOverlayAsync(await factory.CreateOverlayTokenAsync(broadcaster));
        await overlay.SubscribeAsync("*");
        var train = Guid.NewGuid().ToString();

        await factory.SendNotificationAsync(broadcaster, "channel.hype_train.begin", "1", HypeTrain(broadcaster, train, level: 1, progress: 500));
        await factory.SendNotificationAsync(broadcaster, "channel.hype_train.progress", "1", HypeTrain(broadcaster, train, level: 1, progress: 1200));
        await factory.SendNotificationAsync(broadcaster, "channel.hype_train.progress", "1", HypeTrain(broadcaster, train, level: 2, progress: 100));
        // The same progress again under another message id: no second level-up.
        await factory.SendNotificationAsync(broadcaster, "channel.hype_train.progress", "1", HypeTrain(broadcaster, train, level: 2, progress: 100));

        var received = await overlay.WaitForAsync(5);
        received.Select(e => e.Event.Type).Should().Equal("HypeTrainStart", "HypeTrainUpdate", "HypeTrainUpdate", "HypeTrainLevelUp", "HypeTrainUpdate");
        var levelUp = JsonNode.Parse(received[3].Data.GetRawText())!;
        levelUp["prevLevel"]!.GetValue<int>().Should().Be(1);
        levelUp["level"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task Same_logical_event_under_two_message_ids_reaches_overlays_once()
    {
        await using var factory = await RelayFactory.StartAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.ConnectOverlayAsync(await factory.CreateOverlayTokenAsync(broadcaster));
        await overlay.SubscribeAsync("ChatMessage", "RewardRedemption", "Follow");
        var chat = TwitchWebhook.ChatEvent(broadcaster, "only once");
        var redemption = Redemption(broadcaster, "r1");

        var firstChat = await factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", chat);
        await factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", (JsonObject)chat.DeepClone());
        var firstRedemption = await factory.SendNotificationAsync(broadcaster, "channel.channel_points_custom_reward_redemption.add", "1", redemption);
        await factory.SendNotificationAsync(broadcaster, "channel.channel_points_custom_reward_redemption.add", "1", (JsonObject)redemption.DeepClone());
        var marker = await factory.SendNotificationAsync(broadcaster);

        (await overlay.ReceivedBeforeAsync(marker)).Select(e => e.Id).Should().Equal(firstChat, firstRedemption);
    }

    [Fact]
    public async Task Redemption_takes_the_reward_details_from_the_channels_earlier_reward_event()
    {
        await using var factory = await RelayFactory.StartAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.ConnectOverlayAsync(await factory.CreateOverlayTokenAsync(broadcaster));
        await overlay.SubscribeAsync("RewardUpdated", "RewardRedemption");
        var rewardId = Guid.NewGuid().ToString();

        await factory.SendNotificationAsync(broadcaster, "channel.channel_points_custom_reward.update", "1", new JsonObject
        {
            ["id"] = rewardId, ["broadcaster_user_id"] = broadcaster, ["broadcaster_user_login"] = "streamer", ["broadcaster_user_name"] = "Streamer",
            ["is_enabled"] = true, ["is_paused"] = false, ["is_in_stock"] = true, ["title"] = "Hydrate", ["cost"] = 100, ["prompt"] = "Drink!",
            ["is_user_input_required"] = true, ["background_color"] = "#FA1ED2",
        });
        await overlay.NextAsync();
        await factory.SendNotificationAsync(broadcaster, "channel.channel_points_custom_reward_redemption.add", "1", Redemption(broadcaster, rewardId));
        var redemption = JsonNode.Parse((await overlay.NextAsync()).Data.GetRawText())!;

        redemption["backgroundColor"]!.GetValue<string>().Should().Be("#FA1ED2");
        redemption["inputRequired"]!.GetValue<bool>().Should().BeTrue();
        redemption["enabled"]!.GetValue<bool>().Should().BeTrue();
        redemption["paused"]!.GetValue<bool>().Should().BeFalse();
    }

    [Fact]
    public async Task Enrichment_that_never_answers_does_not_hold_up_delivery()
    {
        await using var factory = await RelayFactory.StartAsync(services: services => services.AddSingleton<Events.IEventEnricher, SilentEnricher>());
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.ConnectOverlayAsync(await factory.CreateOverlayTokenAsync(broadcaster));
        await overlay.SubscribeAsync("Raid", "RewardRedemption");

        await factory.SendNotificationAsync(broadcaster, "channel.raid", "1");
        await factory.SendNotificationAsync(broadcaster, "channel.channel_points_custom_reward_redemption.add", "1", Redemption(broadcaster, "r1"));

        var received = await overlay.WaitForAsync(2);
        received[0].Data.GetProperty("profileImage").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        received[1].Data.GetProperty("backgroundColor").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task Gifted_subs_of_a_gift_bomb_arrive_as_part_of_it_not_as_plain_sub_alerts()
    {
        await using var factory = await RelayFactory.StartAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await factory.ConnectOverlayAsync(await factory.CreateOverlayTokenAsync(broadcaster));
        await overlay.SubscribeAsync("*");

        await factory.SendNotificationAsync(broadcaster, "channel.subscription.gift", "1", new JsonObject
        {
            ["user_id"] = "1234", ["user_login"] = "generous", ["user_name"] = "Generous", ["broadcaster_user_id"] = broadcaster,
            ["broadcaster_user_login"] = "streamer", ["broadcaster_user_name"] = "Streamer", ["total"] = 2, ["tier"] = "1000",
            ["cumulative_total"] = 10, ["is_anonymous"] = false,
        });
        for (var i = 0; i < 3; i++)
        {
            await factory.SendNotificationAsync(broadcaster, "channel.subscribe", "1", new JsonObject
            {
                ["user_id"] = $"50{i}", ["user_login"] = $"lucky{i}", ["user_name"] = $"Lucky{i}", ["broadcaster_user_id"] = broadcaster,
                ["broadcaster_user_login"] = "streamer", ["broadcaster_user_name"] = "Streamer", ["tier"] = "1000", ["is_gift"] = true,
            });
        }

        var received = await overlay.WaitForAsync(4);
        received.Select(e => e.Event.Type).Should().Equal("GiftBomb", "GiftSub", "GiftSub", "GiftSub");
        var gifts = received.Skip(1).Select(e => JsonNode.Parse(e.Data.GetRawText())!).ToList();
        gifts.Take(2).Should().OnlyContain(g => g["fromSubBomb"]!.GetValue<bool>() && g["subBombCount"]!.GetValue<int>() == 2 && g["displayName"]!.GetValue<string>() == "Generous");
        gifts[0]["recipientDisplayName"]!.GetValue<string>().Should().Be("Lucky0");
        gifts[2]["fromSubBomb"]!.GetValue<bool>().Should().BeFalse("the bomb had two gifts");
    }

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
