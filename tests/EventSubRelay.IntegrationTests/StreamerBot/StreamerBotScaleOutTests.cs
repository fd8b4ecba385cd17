using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests.StreamerBot;

public sealed class StreamerBotScaleOutTests(TwoRelays relays) : IClassFixture<TwoRelays>
{
    private RelayProcess A => relays.A;

    private RelayProcess B => relays.B;

    [Fact]
    public async Task A_widget_on_one_instance_receives_each_webhook_posted_to_the_other_once_in_order()
    {
        var (broadcaster, token) = await NewChannelAsync();
        await using var onB = await StreamerBotSocket.AuthenticatedAsync(B.BaseAddress, token);
        await onB.SubscribeAsync("Follow");

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await SendAsync(A, broadcaster));
        }

        // A delivers in order and Redis keeps one publisher's order: a duplicate would come before the marker.
        var marker = await SendAsync(A, broadcaster);

        IdsOf(await onB.EventsUntilAsync(marker)).Should().Equal([.. ids, marker]);
    }

    [Fact]
    public async Task A_widget_that_comes_back_on_the_other_instance_gets_what_it_missed_first_in_order_then_live_without_duplicates()
    {
        var (broadcaster, token) = await NewChannelAsync();
        await using var witness = await SubscribedOverlay.ConnectAsync(B.BaseAddress, token);
        string seen;
        await using (var before = await StreamerBotSocket.AuthenticatedAsync(A.BaseAddress, token))
        {
            await before.SubscribeAsync("Follow");
            seen = await SendAsync(A, broadcaster);
            IdsOf([await before.NextAsync()]).Should().Equal(seen);

            // Leaves the way a browser source does on a reload: a close frame.
            await before.Socket.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "reload", CancellationToken.None);
        }

        // Sent while the widget was away, by both instances, with an event of a type it did not subscribe to.
        var missed = new List<string>();
        foreach (var relay in new[] { A, B, A, B })
        {
            missed.Add(await SendAsync(relay, broadcaster));
        }

        var cheer = await SendAsync(B, broadcaster, "channel.cheer", "1");
        // Stored and sent before the widget comes back (two instances' sends may interleave: compared as a set).
        (await witness.WaitForAsync(2 + missed.Count)).Select(e => e.Id).Should().BeEquivalentTo([seen, .. missed, cheer]);

        await using var after = await StreamerBotSocket.AuthenticatedAsync(B.BaseAddress, token);
        await after.SubscribeAsync("Follow");
        var live = await SendAsync(A, broadcaster);

        IdsOf(await after.EventsUntilAsync(live)).Should().Equal([.. missed, live]);
    }

    private static IEnumerable<string> IdsOf(IEnumerable<JsonObject> frames) => frames.Select(f => f["eventSubRelay"]!["id"]!.GetValue<string>());

    private async Task<(string Broadcaster, string Token)> NewChannelAsync()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        return (broadcaster, await RelayProcess.CreateOverlayTokenAsync(relays.Environment, broadcaster));
    }

    private static async Task<string> SendAsync(RelayProcess relay, string broadcaster, string type = "channel.follow", string version = "2")
    {
        using var client = new HttpClient { BaseAddress = relay.BaseAddress };
        var id = TwitchWebhook.NewMessageId();
        using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster, type, version), messageId: id));
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        return id;
    }
}
