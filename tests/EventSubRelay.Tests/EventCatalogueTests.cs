using System.Text.Json;
using System.Text.Json.Nodes;
using EventSubRelay.Events;

namespace EventSubRelay.Tests;

/// <summary>EventSub payloads (from Twitch's reference examples) and the normalized events they become.</summary>
public sealed class EventCatalogueTests
{
    public static TheoryData<string, string, string, string, string> Examples() => new()
    {
        {
            "channel.follow", "2",
            """{"user_id":"67890","user_login":"new_follower","user_name":"New_Follower","broadcaster_user_id":"12345","broadcaster_user_login":"cool_streamer","broadcaster_user_name":"Cool_Streamer","followed_at":"2025-03-15T18:30:00.000000000Z"}""",
            "Follow",
            """{"userId":67890,"userName":"new_follower","displayName":"New_Follower","isTest":false}"""
        },
        {
            "channel.cheer", "1",
            """{"is_anonymous":false,"user_id":"67890","user_login":"generous_viewer","user_name":"Generous_Viewer","broadcaster_user_id":"12345","broadcaster_user_login":"cool_streamer","broadcaster_user_name":"Cool_Streamer","message":"Cheer100 Great stream! Kappa5","bits":105}""",
            "Cheer",
            """{"message":{"msgId":null,"userId":67890,"username":"generous_viewer","role":1,"subscriber":false,"displayName":"Generous_Viewer","channel":"cool_streamer","message":"Cheer100 Great stream! Kappa5","isHighlighted":false,"isMe":false,"isCustomReward":false,"isAnonymous":false,"isReply":false,"bits":105,"hasBits":true,"emotes":[],"cheerEmotes":[{"bits":100,"color":null,"type":"CheerEmote","name":"Cheer","startIndex":0,"endIndex":7,"imageUrl":null},{"bits":5,"color":null,"type":"CheerEmote","name":"Kappa","startIndex":23,"endIndex":28,"imageUrl":null}]}}"""
        },
        {
            "channel.raid", "1",
            """{"from_broadcaster_user_id":"99999","from_broadcaster_user_login":"raiding_streamer","from_broadcaster_user_name":"Raiding_Streamer","to_broadcaster_user_id":"12345","to_broadcaster_user_login":"cool_streamer","to_broadcaster_user_name":"Cool_Streamer","viewers":250}""",
            "Raid",
            """{"viewerCount":250,"profileImage":null,"userId":99999,"userName":"raiding_streamer","displayName":"Raiding_Streamer","role":1}"""
        },
        {
            "channel.subscribe", "1",
            """{"user_id":"67890","user_login":"new_sub_user","user_name":"New_Sub_User","broadcaster_user_id":"12345","broadcaster_user_login":"cool_streamer","broadcaster_user_name":"Cool_Streamer","tier":"2000","is_gift":false}""",
            "Sub",
            """{"subTier":2,"color":null,"emotes":[],"message":"","userId":67890,"userName":"new_sub_user","displayName":"New_Sub_User","role":1}"""
        },
        {
            "channel.subscription.message", "1",
            """{"user_id":"1234","user_login":"cool_user","user_name":"Cool_User","broadcaster_user_id":"1337","broadcaster_user_login":"cooler_user","broadcaster_user_name":"Cooler_User","tier":"1000","message":{"text":"Love the stream! FevziGG","emotes":[{"begin":23,"end":30,"id":"302976485"}]},"cumulative_months":15,"streak_months":1,"duration_months":6}""",
            "ReSub",
            """{"cumulativeMonths":15,"shareStreak":true,"streakMonths":1,"subTier":1,"color":null,"emotes":[],"message":"Love the stream! FevziGG","userId":1234,"userName":"cool_user","displayName":"Cool_User","role":1}"""
        },
        {
            "channel.subscription.gift", "1",
            """{"user_id":"1234","user_login":"cool_user","user_name":"Cool_User","broadcaster_user_id":"1337","broadcaster_user_login":"cooler_user","broadcaster_user_name":"Cooler_User","total":5,"tier":"1000","cumulative_total":284,"is_anonymous":false}""",
            "GiftBomb",
            """{"isAnonymous":false,"gifts":5,"totalGifts":284,"subTier":1,"userId":1234,"userName":"cool_user","displayName":"Cool_User","role":1}"""
        },
        {
            "channel.ad_break.begin", "1",
            """{"duration_seconds":60,"started_at":"2019-11-16T10:11:12.634234626Z","is_automatic":true,"broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","broadcaster_user_name":"Cool_User","requester_user_id":"1337","requester_user_login":"cool_user","requester_user_name":"Cool_User"}""",
            "AdRun",
            """{"length":60,"scheduled":true}"""
        },
        {
            "channel.chat.message", "1",
            """{"broadcaster_user_id":"12345","broadcaster_user_login":"cool_streamer","broadcaster_user_name":"Cool_Streamer","chatter_user_id":"67890","chatter_user_login":"chatter_fan","chatter_user_name":"Chatter_Fan","message_id":"cc106895-d143-4a73-b152-7e9ee5e6b5a2","message":{"text":"Hello everyone! PogChamp","fragments":[{"type":"text","text":"Hello everyone! ","cheermote":null,"emote":null,"mention":null},{"type":"emote","text":"PogChamp","cheermote":null,"emote":{"id":"305954156","emote_set_id":"0","owner_id":"0","format":["static","animated"]},"mention":null}]},"message_type":"text","badges":[{"set_id":"subscriber","id":"12","info":"15"},{"set_id":"vip","id":"1","info":""}],"cheer":null,"color":"#FF4500","reply":null,"channel_points_custom_reward_id":null}""",
            "ChatMessage",
            """{"message":{"msgId":"cc106895-d143-4a73-b152-7e9ee5e6b5a2","userId":67890,"username":"chatter_fan","role":2,"subscriber":true,"displayName":"Chatter_Fan","channel":"cool_streamer","message":"Hello everyone! PogChamp","isHighlighted":false,"isMe":false,"isCustomReward":false,"isAnonymous":false,"isReply":false,"bits":0,"hasBits":false,"emotes":[{"id":"305954156","type":"Twitch","name":"PogChamp","startIndex":16,"endIndex":23,"imageUrl":"https://static-cdn.jtvnw.net/emoticons/v2/305954156/default/dark/2.0"}],"cheerEmotes":[]}}"""
        },
        {
            "user.whisper.message", "1",
            """{"from_user_id":"423374343","from_user_login":"glowillig","from_user_name":"glowillig","to_user_id":"424596340","to_user_login":"quotrok","to_user_name":"quotrok","whisper_id":"some-whisper-id","whisper":{"text":"a secret"}}""",
            "Whisper",
            """{"message":{"msgId":"some-whisper-id","userId":423374343,"username":"glowillig","displayName":"glowillig","message":"a secret","emotes":[]}}"""
        },
        {
            "channel.ban", "1",
            """{"user_id":"1234","user_login":"cool_user","user_name":"Cool_User","broadcaster_user_id":"1337","broadcaster_user_login":"cooler_user","broadcaster_user_name":"Cooler_User","moderator_user_id":"1339","moderator_user_login":"mod_user","moderator_user_name":"Mod_User","reason":"Offensive language","banned_at":"2020-07-15T18:15:11.17106713Z","ends_at":"2020-07-15T18:16:11.17106713Z","is_permanent":false}""",
            "UserTimedOut",
            """{"userId":1234,"userName":"cool_user","displayName":"Cool_User","reason":"Offensive language","moderator":"Mod_User","duration":60,"expiresAt":"2020-07-15T18:16:11.17106713Z"}"""
        },
        {
            "channel.moderate", "2",
            """{"broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","broadcaster_user_name":"Cool_User","moderator_user_id":"1339","moderator_user_login":"mod_user","moderator_user_name":"Mod_User","action":"untimeout","untimeout":{"user_id":"1234","user_login":"chatter","user_name":"Chatter"}}""",
            "TimeoutRemoved",
            """{"userId":1234,"userName":"chatter","displayName":"Chatter","moderator":"Mod_User"}"""
        },
        {
            "channel.moderate", "2",
            """{"broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","broadcaster_user_name":"Cool_User","moderator_user_id":"1339","moderator_user_login":"mod_user","moderator_user_name":"Mod_User","action":"unban","unban":{"user_id":"1234","user_login":"chatter","user_name":"Chatter"}}""",
            "UserUnbanned",
            """{"userId":1234,"userName":"chatter","displayName":"Chatter","moderator":"Mod_User"}"""
        },
        {
            "channel.moderate", "2",
            """{"broadcaster_user_id":"1337","moderator_user_id":"1339","moderator_user_login":"mod_user","moderator_user_name":"Mod_User","action":"timeout","timeout":{"user_id":"1234","user_login":"chatter","user_name":"Chatter","reason":"spam","expires_at":"2026-11-24T10:10:00Z"}}""",
            "UserTimedOut",
            """{"userId":1234,"userName":"chatter","displayName":"Chatter","moderator":"Mod_User","reason":"spam","duration":null,"expiresAt":"2026-11-24T10:10:00Z"}"""
        },
        {
            "channel.poll.end", "1",
            """{"id":"1243456","broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","broadcaster_user_name":"Cool_User","title":"Aren't shoes just really hard socks?","choices":[{"id":"123","title":"Blue","bits_votes":0,"channel_points_votes":5,"votes":20},{"id":"124","title":"Yellow","bits_votes":0,"channel_points_votes":0,"votes":3}],"bits_voting":{"is_enabled":false,"amount_per_vote":0},"channel_points_voting":{"is_enabled":true,"amount_per_vote":10},"status":"completed","started_at":"2020-07-15T17:16:03.17106713Z","ended_at":"2020-07-15T17:16:11.17106713Z"}""",
            "PollCompleted",
            """{"dateTime":"2020-07-15T17:16:03.17106713Z","channelId":1337,"type":1,"id":"1243456","title":"Aren't shoes just really hard socks?","startedAt":"2020-07-15T17:16:03.17106713Z","duration":8,"settings":{"multi_choice":{"is_enabled":false},"subscriber_only":{"is_enabled":false},"subscriber_multiplier":{"is_enabled":false},"bits_votes":{"cost":0,"is_enabled":false},"channel_points_votes":{"cost":10,"is_enabled":true}},"choices":[{"choice_id":"123","title":"Blue","votes":{"total":20,"base":15,"bits":0,"channel_points":5},"tokens":{"bits":0,"channel_points":50},"total_voters":15},{"choice_id":"124","title":"Yellow","votes":{"total":3,"base":3,"bits":0,"channel_points":0},"tokens":{"bits":0,"channel_points":0},"total_voters":3}],"votes":{"total":23,"base":18,"bits":0,"channel_points":5},"tokens":{"bits":0,"channel_points":50},"totalVotes":23,"remainingDurationMilliseconds":0,"endedAt":"2020-07-15T17:16:11.17106713Z","winningChoice":{"choice_id":"123","title":"Blue","votes":{"total":20,"base":15,"bits":0,"channel_points":5},"tokens":{"bits":0,"channel_points":50},"total_voters":15}}"""
        },
        {
            "channel.prediction.end", "1",
            """{"id":"1243456","broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","broadcaster_user_name":"Cool_User","title":"Aren't shoes just really hard socks?","winning_outcome_id":"12345","outcomes":[{"id":"12345","title":"Yeah!","color":"blue","users":2,"channel_points":15000,"top_predictors":[{"user_name":"Cool_User","user_login":"cool_user","user_id":"1234","channel_points_won":10000,"channel_points_used":500}]},{"id":"22435","title":"No!","users":2,"channel_points":200,"color":"pink","top_predictors":[]}],"status":"resolved","started_at":"2020-07-15T17:16:03.17106713Z","ended_at":"2020-07-15T17:16:11.17106713Z"}""",
            "PredictionCompleted",
            """{"outcomes":[{"id":"12345","color":"BLUE","title":"Yeah!","total_points":15000,"total_users":2,"top_predictors":[{"event_id":"1243456","outcome_id":"12345","channel_id":1337,"points":500,"predicted_at":null,"updated_at":null,"user_id":1234,"user_display_name":"Cool_User"}]},{"id":"22435","color":"PINK","title":"No!","total_points":200,"total_users":2,"top_predictors":[]}],"dateTime":"2020-07-15T17:16:11.17106713Z","channelId":1337,"type":1,"status":3,"id":"1243456","title":"Aren't shoes just really hard socks?","createdAt":"2020-07-15T17:16:03.17106713Z","predictionWindow":null,"winningOutcomeId":"12345","winningOutcome":{"id":"12345","color":"BLUE","title":"Yeah!","total_points":15000,"total_users":2,"top_predictors":[{"event_id":"1243456","outcome_id":"12345","channel_id":1337,"points":500,"predicted_at":null,"updated_at":null,"user_id":1234,"user_display_name":"Cool_User"}]}}"""
        },
        {
            "channel.charity_campaign.donate", "1",
            """{"id":"a1b2c3-aabb-4455-d1e2f3","campaign_id":"123-abc-456-def","broadcaster_user_id":"123456","broadcaster_user_name":"SunnySideUp","broadcaster_user_login":"sunnysideup","user_id":"654321","user_login":"generoususer1","user_name":"GenerousUser1","charity_name":"Example name","charity_description":"Example description","amount":{"value":10000,"decimal_places":2,"currency":"USD"}}""",
            "CharityDonation",
            """{"userId":654321,"userName":"generoususer1","displayName":"GenerousUser1","campaignId":"123-abc-456-def","charity":"Example name","amount":{"value":100,"currency":"USD"}}"""
        },
        {
            "channel.goal.progress", "1",
            """{"id":"12345-cool-event","broadcaster_user_id":"141981764","broadcaster_user_name":"TwitchDev","broadcaster_user_login":"twitchdev","type":"subscription","description":"Help me get partner!","current_amount":120,"target_amount":220,"started_at":"2021-07-15T17:16:03.17106713Z"}""",
            "GoalProgress",
            """{"id":"12345-cool-event","type":"subscription","description":"Help me get partner!","currentAmount":120,"targetAmount":220,"startedAt":"2021-07-15T17:16:03.17106713Z","endedAt":null,"isAchieved":false}"""
        },
        {
            "channel.channel_points_custom_reward.update", "1",
            """{"id":"9001","broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","broadcaster_user_name":"Cool_User","is_enabled":true,"is_paused":true,"is_in_stock":true,"title":"Cool Reward","cost":100,"prompt":"reward prompt","is_user_input_required":true,"should_redemptions_skip_request_queue":false,"background_color":"#FA1ED2"}""",
            "RewardUpdated",
            """{"channelId":1337,"cost":100,"rewardId":"9001","title":"Cool Reward","prompt":"reward prompt","inputRequired":true,"backgroundColor":"#FA1ED2","enabled":true,"paused":true,"subOnly":false}"""
        },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Maps_Twitch_examples_to_the_normalized_shape(string type, string version, string @event, string expectedType, string expectedData)
    {
        using var payload = JsonDocument.Parse(@event);

        var (mappedType, data) = EventCatalogue.Map(type, version, payload.RootElement);

        mappedType.Should().Be(expectedType);
        JsonNode.DeepEquals(data, JsonNode.Parse(expectedData)).Should().BeTrue($"expected {expectedData} but got {data.ToJsonString()}");
    }

    [Theory]
    [InlineData("channel.follow", "1")]
    [InlineData("automod.message.hold", "2")]
    [InlineData("some.future.type", "7")]
    public void Unknown_types_and_versions_are_delivered_raw_with_the_original_event(string type, string version)
    {
        using var payload = JsonDocument.Parse("""{"user_id":"1","anything":[1,2,{"x":null}]}""");

        var (mappedType, data) = EventCatalogue.Map(type, version, payload.RootElement);

        mappedType.Should().Be("Raw");
        data["subscriptionType"]!.GetValue<string>().Should().Be(type);
        data["subscriptionVersion"]!.GetValue<string>().Should().Be(version);
        JsonNode.DeepEquals(data["event"], JsonNode.Parse(payload.RootElement.GetRawText())).Should().BeTrue();
    }

    [Fact]
    public void A_single_gift_is_a_gift_sub_and_a_recipient_side_gifted_sub_is_not_a_plain_sub()
    {
        using var gift = JsonDocument.Parse("""{"user_id":"1","user_login":"a","user_name":"A","total":1,"tier":"3000","cumulative_total":null,"is_anonymous":false}""");
        using var received = JsonDocument.Parse("""{"user_id":"2","user_login":"b","user_name":"B","tier":"1000","is_gift":true}""");

        EventCatalogue.Map("channel.subscription.gift", "1", gift.RootElement).Type.Should().Be("GiftSub");
        var (type, data) = EventCatalogue.Map("channel.subscribe", "1", received.RootElement);
        type.Should().Be("GiftSub");
        data["recipientUserId"]!.GetValue<long>().Should().Be(2);
    }

    [Theory]
    [InlineData(1, "GiftSub")]
    [InlineData(5, "GiftBomb")]
    public void An_anonymous_gift_names_nobody_whatever_user_fields_its_payload_carries(int total, string expectedType)
    {
        // As Twitch's CLI sends it: an anonymous gift from its "ananonymousgifter" account.
        using var gift = JsonDocument.Parse($$"""{"user_id":"274598607","user_login":"ananonymousgifter","user_name":"AnAnonymousGifter","broadcaster_user_id":"12345","total":{{total}},"tier":"1000","cumulative_total":null,"is_anonymous":true}""");

        var (type, data) = EventCatalogue.Map("channel.subscription.gift", "1", gift.RootElement);

        type.Should().Be(expectedType);
        data["isAnonymous"]!.GetValue<bool>().Should().BeTrue();
        data["userId"].Should().BeNull();
        data["userName"].Should().BeNull();
        data["displayName"]!.GetValue<string>().Should().Be("Anonymous");
        data.ToJsonString().Should().NotContain("ananonymousgifter", because: "an anonymous gifter is never shown").And.NotContain("274598607");
    }

    [Fact]
    public void An_anonymous_event_delivered_as_raw_names_nobody_either()
    {
        using var payload = JsonDocument.Parse("""{"user_id":"274598607","user_login":"ananonymousgifter","user_name":"AnAnonymousGifter","is_anonymous":true,"bits":5}""");

        var (_, data) = EventCatalogue.Map("channel.some_future_type", "1", payload.RootElement);

        data.ToJsonString().Should().NotContain("ananonymousgifter").And.NotContain("274598607");
        data["event"]!["bits"]!.GetValue<int>().Should().Be(5);
    }

    [Fact]
    public void A_raw_event_names_nobody_where_it_says_whose_anonymity_it_is()
    {
        // channel.chat.notification: the chatter of an anonymous gift, and the gifter of a continued anonymous gift.
        using var payload = JsonDocument.Parse("""
            {"chatter_user_id":"274598607","chatter_user_login":"ananonymousgifter","chatter_user_name":"AnAnonymousGifter","chatter_is_anonymous":true,
             "notice_type":"gift_paid_upgrade","gift_paid_upgrade":{"gifter_is_anonymous":true,"gifter_user_id":"274598607","gifter_user_login":"ananonymousgifter","gifter_user_name":"AnAnonymousGifter"},
             "pay_it_forward":{"gifter_is_anonymous":false,"gifter_user_id":"1","gifter_user_login":"known","gifter_user_name":"Known"}}
            """);

        var (type, data) = EventCatalogue.Map("channel.chat.notification", "1", payload.RootElement);

        type.Should().Be("Raw");
        data.ToJsonString().Should().NotContain("ananonymousgifter").And.NotContain("274598607");
        data["event"]!["chatter_user_name"].Should().BeNull();
        data["event"]!["gift_paid_upgrade"]!["gifter_user_id"].Should().BeNull();
        data["event"]!["pay_it_forward"]!["gifter_user_login"]!.GetValue<string>().Should().Be("known", "only who is anonymous is blanked");
    }

    [Fact]
    public void A_user_update_reaches_overlays_without_the_email_twitch_sends_only_to_the_app()
    {
        using var payload = JsonDocument.Parse("""{"user_id":"1337","user_login":"cool_user","user_name":"Cool_User","email":"user@email.com","email_verified":true,"description":"cool description"}""");

        var (type, data) = EventCatalogue.Map("user.update", "1", payload.RootElement);

        type.Should().Be("Raw");
        data.ToJsonString().Should().NotContain("user@email.com");
        data["event"]!.AsObject().ContainsKey("email").Should().BeFalse();
        data["event"]!.AsObject().ContainsKey("email_verified").Should().BeFalse("it is sent only with user:read:email as well");
        data["event"]!["description"]!.GetValue<string>().Should().Be("cool description");
    }
}
