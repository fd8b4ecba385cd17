using System.Net;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

public sealed class OverlayHubTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    private RelayFactory Factory => relay.Factory;

    [Fact]
    public async Task Client_only_receives_events_of_its_own_broadcaster()
    {
        var mine = TwitchWebhook.NewBroadcasterId();
        var other = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.SubscribedOverlayAsync(mine);

        await Factory.SendNotificationAsync(other);
        await Factory.SendNotificationAsync(other, "channel.cheer", "1");
        var marker = await Factory.SendNotificationAsync(mine);

        (await overlay.ReceivedBeforeAsync(marker)).Should().BeEmpty();
        overlay.All.Should().OnlyContain(e => e.BroadcasterUserId == mine);
    }

    [Fact]
    public async Task Nothing_is_sent_before_a_subscription()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var witness = await Factory.SubscribedOverlayAsync(broadcaster);
        var token = witness.Token;
        await using var overlay = await Factory.ConnectOverlayAsync(token);
        var early = await Factory.SendNotificationAsync(broadcaster);
        await witness.NextAsync();

        await overlay.SubscribeAsync("Follow");
        var marker = await Factory.SendNotificationAsync(broadcaster);

        (await overlay.ReceivedBeforeAsync(marker)).Should().BeEmpty();
        overlay.All.Should().NotContain(e => e.Id == early);
    }

    [Fact]
    public async Task Client_receives_only_the_types_it_subscribed_to()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.ConnectOverlayAsync(await Factory.CreateOverlayTokenAsync(broadcaster));

        var accepted = await overlay.SubscribeAsync("Follow", "Raid", "Follow");
        var cheer = await Factory.SendNotificationAsync(broadcaster, "channel.cheer", "1");
        var follow = await Factory.SendNotificationAsync(broadcaster);
        await overlay.NextAsync();
        await overlay.UnsubscribeAsync("Follow");
        var unwantedFollow = await Factory.SendNotificationAsync(broadcaster);
        var marker = await Factory.SendNotificationAsync(broadcaster, "channel.raid", "1");

        accepted.Should().Equal("Follow", "Raid");
        var received = await overlay.ReceivedBeforeAsync(marker);
        received.Select(e => e.Id).Should().Equal(follow);
        overlay.All.Select(e => e.Id).Should().NotContain([cheer, unwantedFollow]);
    }

    [Fact]
    public async Task Subscribing_to_all_and_to_a_type_delivers_each_event_once()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.SubscribedOverlayAsync(broadcaster, "Follow");
        await overlay.SubscribeAsync("*");
        await overlay.SubscribeAsync("Follow", "Cheer");

        var follow = await Factory.SendNotificationAsync(broadcaster);
        await overlay.NextAsync();
        await overlay.UnsubscribeAsync("*");
        var followAfterLeavingAll = await Factory.SendNotificationAsync(broadcaster);
        var marker = await Factory.SendNotificationAsync(broadcaster, "channel.cheer", "1");

        (await overlay.ReceivedBeforeAsync(marker)).Select(e => e.Id).Should().Equal(follow, followAfterLeavingAll);
    }

    [Fact]
    public async Task Subscribe_rejects_empty_or_malformed_type_lists()
    {
        await using var overlay = await Factory.ConnectOverlayAsync(await Factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId()));

        await overlay.Invoking(o => o.SubscribeAsync()).Should().ThrowAsync<HubException>();
        await overlay.Invoking(o => o.SubscribeAsync("")).Should().ThrowAsync<HubException>();
        await overlay.Invoking(o => o.SubscribeAsync(new string('x', 101))).Should().ThrowAsync<HubException>();
    }

    [Fact]
    public async Task Reconnecting_client_with_afterSeq_receives_what_it_missed_in_order_then_live_events()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        long lastSeen;
        await using (var first = await Factory.ConnectSubscribedAsync(token))
        {
            await Factory.SendNotificationAsync(broadcaster);
            lastSeen = (await first.NextAsync()).Seq;
        }

        var missed = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            missed.Add(await Factory.SendNotificationAsync(broadcaster));
        }

        await using var second = await Factory.ConnectSubscribedAsync(token, afterSeq: lastSeen);
        var live = await Factory.SendNotificationAsync(broadcaster);

        var received = await second.WaitForAsync(4);
        received.Select(e => e.Id).Should().Equal([.. missed, live]);
        received.Select(e => e.Seq).Should().BeInAscendingOrder();
    }

    [Fact]
    public async Task Replay_comes_before_live_events_that_arrive_while_it_runs_without_gaps_or_duplicates()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        var missed = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            missed.Add(await Factory.SendNotificationAsync(broadcaster));
        }

        await using var overlay = await Factory.ConnectOverlayAsync(token, afterSeq: 0);
        var live = Enumerable.Range(0, 20).Select(_ => Factory.SendNotificationAsync(broadcaster)).ToList();
        await overlay.SubscribeAsync("*");
        var liveIds = await Task.WhenAll(live);

        var received = await overlay.WaitForAsync(missed.Count + liveIds.Length);
        received.Select(e => e.Id).Should().OnlyHaveUniqueItems().And.BeEquivalentTo([.. missed, .. liveIds]);
        received.Select(e => e.Seq).Should().BeInAscendingOrder();
        received.Take(4).Select(e => e.Id).Should().Equal(missed);
    }

    [Fact]
    public async Task Resume_replays_only_subscribed_types_and_never_repeats_live_events()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var witness = await Factory.SubscribedOverlayAsync(broadcaster);
        var token = witness.Token;
        await using var overlay = await Factory.ConnectOverlayAsync(token);
        var missedFollow = await Factory.SendNotificationAsync(broadcaster);
        var missedCheer = await Factory.SendNotificationAsync(broadcaster, "channel.cheer", "1");
        await witness.WaitForAsync(2);

        await overlay.SubscribeAsync("Follow");
        var liveFollow = await Factory.SendNotificationAsync(broadcaster);
        await overlay.NextAsync();
        var result = await overlay.Connection.InvokeAsync<ResumeResult>("Resume", 0L);
        var marker = await Factory.SendNotificationAsync(broadcaster);

        result.Replayed.Should().Be(1);
        var received = await overlay.ReceivedBeforeAsync(marker);
        received.Select(e => e.Id).Should().Equal(liveFollow, missedFollow);
        received.Should().NotContain(e => e.Id == missedCheer);
    }

    [Fact]
    public async Task GetEvents_lists_the_event_groups_with_their_sub_events()
    {
        await using var overlay = await Factory.ConnectOverlayAsync(await Factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId()));

        var groups = await overlay.Connection.InvokeAsync<Events.EventGroup[]>("GetEvents");

        groups.Should().Contain(g => g.Name == "Follows" && !g.AffiliateOnly);
        groups.Single(g => g.Name == "Subscriptions").SubEvents.Select(s => s.Name).Should().Equal("New", "Gift", "End");
        groups.Single(g => g.Name == "Subscriptions").AffiliateOnly.Should().BeTrue();
    }

    [Fact]
    public async Task Notifications_arrive_as_normalized_events_and_unknown_types_as_raw()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await Factory.SubscribedOverlayAsync(broadcaster);

        await Factory.SendNotificationAsync(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster, "hi Kappa"));
        await Factory.SendNotificationAsync(broadcaster, "channel.cheer", "1");
        await Factory.SendNotificationAsync(broadcaster, "channel.something.new", "3");
        var received = await overlay.WaitForAsync(4);

        received.Select(e => e.Event.Type).Should().Equal("ChatMessage", "FirstWord", "Cheer", "Raw");
        received[0].Data.GetProperty("message").GetProperty("message").GetString().Should().Be("hi Kappa");
        received[2].Data.GetProperty("message").GetProperty("cheerEmotes")[0].GetProperty("bits").GetInt32().Should().Be(100);
        received[3].Data.GetProperty("subscriptionType").GetString().Should().Be("channel.something.new");
        received[3].Data.GetProperty("event").GetProperty("user_login").GetString().Should().Be("awesome_user");
    }

    [Fact]
    public async Task Negotiate_without_a_valid_token_is_refused_with_401()
    {
        using var client = Factory.CreateRelayClient();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var revoked = await Factory.CreateOverlayTokenAsync(broadcaster);
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<OverlayTokens>();
            var own = (await tokens.ListAsync(broadcaster, CancellationToken.None)).Single();
            (await tokens.RevokeAsync(own.Id, CancellationToken.None)).Should().BeTrue();
        }

        foreach (var query in new[] { "", "?access_token=", "?access_token=esr_not-a-real-token", "?access_token=" + revoked })
        {
            using var response = await client.PostAsync(OverlayExtensions.HubPath + "/negotiate" + query + (query.Length == 0 ? "?" : "&") + "negotiateVersion=1", null);
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"the query was '{query}'");
        }

        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Factory.BaseAddress, OverlayExtensions.HubPath), o => o.AccessTokenProvider = () => Task.FromResult<string?>("esr_wrong"))
            .Build();
        var start = () => connection.StartAsync();
        (await start.Should().ThrowAsync<HttpRequestException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Token_in_the_authorization_header_is_accepted()
    {
        using var client = Factory.CreateRelayClient();
        var token = await Factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId());
        using var request = new HttpRequestMessage(HttpMethod.Post, OverlayExtensions.HubPath + "/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new("Bearer", token);

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
