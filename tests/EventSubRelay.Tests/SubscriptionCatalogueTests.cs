using EventSubRelay.Accounts;
using EventSubRelay.Twitch;

namespace EventSubRelay.Tests;

public sealed class SubscriptionCatalogueTests
{
    private static IReadOnlyList<string> AllKeys => [.. SubscriptionCatalogue.ByKey.Keys];

    [Fact]
    public void Every_scope_requested_is_a_read_scope()
    {
        SubscriptionCatalogue.Scopes(SubscriptionCatalogue.ByKey.Values)
            .Should().OnlyContain(s => s.Contains(":read:", StringComparison.Ordinal) || s == "moderation:read" || s == "bits:read"
                // Twitch requires it of the chatting user to read chat over webhooks; it grants no write access to the channel.
                || s == "user:bot");
    }

    [Fact]
    public void Bans_timeouts_and_unbans_use_channel_moderate_v2_instead_of_the_write_scoped_ban_events()
    {
        var moderation = SubscriptionCatalogue.Groups.Single(g => g.Key == "moderation").Events.Should().ContainSingle().Subject;

        moderation.Type.Should().Be("channel.moderate");
        moderation.Version.Should().Be("2");
        SubscriptionCatalogue.ByKey.Values.Should().NotContain(e => e.Type == "channel.ban" || e.Type == "channel.unban");
    }

    [Fact]
    public void A_regular_channel_gets_no_affiliate_only_events()
    {
        var allowed = SubscriptionCatalogue.Allowed(AllKeys, affiliateOrPartner: false);

        allowed.Select(e => e.Type).Should().Contain(["channel.follow", "channel.raid", "channel.moderate", "channel.chat.message", "stream.online"])
            .And.NotContain(["channel.cheer", "channel.poll.begin", "channel.prediction.begin", "channel.channel_points_custom_reward_redemption.add",
                "channel.subscribe", "channel.goal.begin", "channel.hype_train.begin", "channel.vip.add"]);
    }

    [Fact]
    public void Sub_events_are_chosen_separately_and_scopes_follow_the_choice()
    {
        var allowed = SubscriptionCatalogue.Allowed(["poll.end", "follow", "no-such-event"], affiliateOrPartner: true);

        allowed.Select(e => e.Type).Should().Equal("channel.poll.end", "channel.follow");
        SubscriptionCatalogue.Scopes(allowed).Should().Equal("channel:read:polls", "moderator:read:followers");
        SubscriptionCatalogue.MissingScopes(allowed, ["moderator:read:followers"]).Should().Equal("channel:read:polls");
    }

    [Fact]
    public void Desired_subscriptions_use_current_versions_the_webhook_transport_and_the_right_condition()
    {
        var desired = SubscriptionCatalogue.Desired("123", SubscriptionCatalogue.Allowed(["follow", "raid", "hype_train.begin"], true), "https://relay.example/eventsub", "0123456789abcdef");

        desired.Should().BeEquivalentTo(new[]
        {
            new CreateEventSubSubscription("channel.follow", "2", new Dictionary<string, string> { ["broadcaster_user_id"] = "123", ["moderator_user_id"] = "123" }, new EventSubTransport("webhook", "https://relay.example/eventsub", "0123456789abcdef")),
            new CreateEventSubSubscription("channel.raid", "1", new Dictionary<string, string> { ["to_broadcaster_user_id"] = "123" }, new EventSubTransport("webhook", "https://relay.example/eventsub", "0123456789abcdef")),
            new CreateEventSubSubscription("channel.hype_train.begin", "2", new Dictionary<string, string> { ["broadcaster_user_id"] = "123" }, new EventSubTransport("webhook", "https://relay.example/eventsub", "0123456789abcdef")),
        });
    }
}
