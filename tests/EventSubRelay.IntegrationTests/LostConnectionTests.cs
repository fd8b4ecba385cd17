using System.Net;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// A connection to PostgreSQL that breaks in the middle of a commit, where the relay cannot tell whether it went
/// through: nothing stored may be lost, nothing may come twice.
/// </summary>
public sealed class LostConnectionTests
{
    [Fact]
    public async Task A_notification_committed_just_before_its_connection_was_lost_is_acknowledged_and_delivered_once()
    {
        await using var relay = await RelayBehindProxy.StartAsync();
        var messageId = TwitchWebhook.NewMessageId();

        // PostgreSQL commits the insert; the connection is lost before the relay hears so.
        relay.Proxy.CutAfterAnswerTo("INSERT INTO notifications");
        using var first = await relay.PostUntilCutAsync(messageId);
        (await Database.CountAsync(relay.DirectConnectionString, "SELECT count(*) FROM notifications WHERE message_id = @id", ("id", messageId)))
            .Should().Be(1, "the commit went through");

        // The relay finds out that it was stored: acknowledged, and a late retry from Twitch is a duplicate.
        first.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var retry = await relay.PostAsync(messageId);
        retry.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await relay.ReceivedAsync()).Should().Equal([messageId], "a stored notification reaches the overlay, once");
    }

    [Fact]
    public async Task A_notification_whose_connection_was_lost_before_the_server_got_it_is_answered_503_and_stored_on_retry()
    {
        await using var relay = await RelayBehindProxy.StartAsync();
        var messageId = TwitchWebhook.NewMessageId();

        relay.Proxy.CutBeforeSending("INSERT INTO notifications");
        using var first = await relay.PostUntilCutAsync(messageId);

        first.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "nothing was stored");
        using var retry = await relay.PostAsync(messageId);
        retry.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await relay.ReceivedAsync()).Should().Equal([messageId]);
    }

    [Fact]
    public async Task Overlay_events_committed_just_before_their_connection_was_lost_are_still_sent_once()
    {
        await using var relay = await RelayBehindProxy.StartAsync();

        // Delivery stores the event; the connection is lost before it hears so, and it tries again.
        relay.Proxy.CutAfterAnswerTo("INSERT INTO overlay_events");
        var messageId = await relay.Relay.SendNotificationAsync(relay.Broadcaster);
        await relay.Proxy.Cut.WaitAsync(CutTimeout);

        (await relay.ReceivedAsync()).Should().Equal([messageId], "the stored event goes out live, once");
    }

    private static readonly TimeSpan CutTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A relay whose database connections all go through a <see cref="PostgresProxy"/>, and an overlay of a new broadcaster.</summary>
    private sealed class RelayBehindProxy : IAsyncDisposable
    {
        private RelayBehindProxy(string directConnectionString, PostgresProxy proxy, RelayFactory relay, string broadcaster, OverlayClient overlay) =>
            (DirectConnectionString, Proxy, Relay, Broadcaster, Overlay, Client) = (directConnectionString, proxy, relay, broadcaster, overlay, relay.CreateRelayClient());

        private string? _body;

        public string DirectConnectionString { get; }
        public PostgresProxy Proxy { get; }
        public RelayFactory Relay { get; }
        public string Broadcaster { get; }
        public OverlayClient Overlay { get; }
        public HttpClient Client { get; }

        public static async Task<RelayBehindProxy> StartAsync()
        {
            var direct = await (await PostgresServer.Shared).CreateDatabaseAsync();
            var proxy = PostgresProxy.Start(direct);
            var relay = await RelayFactory.StartAsync(connectionString: proxy.ConnectionString(direct));
            var broadcaster = TwitchWebhook.NewBroadcasterId();
            return new RelayBehindProxy(direct, proxy, relay, broadcaster, await relay.SubscribedOverlayAsync(broadcaster));
        }

        /// <summary>Posts the broadcaster's notification under <paramref name="messageId"/> (the same body each time, as Twitch retries).</summary>
        public Task<HttpResponseMessage> PostAsync(string messageId) =>
            Client.SendAsync(TwitchWebhook.Request(_body ??= TwitchWebhook.NotificationBody(Broadcaster), messageId: messageId));

        /// <summary><see cref="PostAsync"/> while the proxy is set to cut: returns once the connection was cut and the relay answered.</summary>
        public async Task<HttpResponseMessage> PostUntilCutAsync(string messageId)
        {
            var response = await PostAsync(messageId);
            await Proxy.Cut.WaitAsync(CutTimeout);
            return response;
        }

        /// <summary>The ids of what the overlay received before a notification sent now.</summary>
        public async Task<IEnumerable<string>> ReceivedAsync()
        {
            var marker = await Relay.SendNotificationAsync(Broadcaster);
            return (await Overlay.ReceivedBeforeAsync(marker)).Select(e => e.Id);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Overlay.DisposeAsync();
            await Relay.DisposeAsync();
            await Proxy.DisposeAsync();
        }
    }
}
