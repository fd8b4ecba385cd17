using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventSubRelay.IntegrationTests.StreamerBot;

/// <summary>What a Streamer.bot socket gets around its subscription, however slowly the hub's sends return.</summary>
public sealed class StreamerBotOrderTests
{
    [Fact]
    public async Task An_event_a_hub_overlay_already_got_does_not_reach_a_socket_that_subscribed_after_it()
    {
        await using var relay = await RelayFactory.StartAsync(services: services =>
            services.AddSingleton<HubLifetimeManager<OverlayHub>>(provider => ActivatorUtilities.CreateInstance<SlowGroupSends>(provider)));
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var hub = await relay.SubscribedOverlayAsync(broadcaster);
        await using var socket = await StreamerBotSocket.AuthenticatedAsync(relay.BaseAddress, hub.Token, "?catchUp=false");

        // The hub overlay has it while the relay's send has not returned yet; the socket subscribes only then.
        var early = await relay.SendNotificationAsync(broadcaster);
        (await hub.NextAsync()).Id.Should().Be(early);
        await socket.SubscribeAsync("Follow");
        var later = await relay.SendNotificationAsync(broadcaster);

        var frame = await socket.NextAsync();
        frame["eventSubRelay"]!["id"]!.GetValue<string>().Should().Be(later, "the event before the subscription was sent to every endpoint before any saw it");
    }

    /// <summary>The hub's group sends, returning a while after the message went out (a send through a slow backplane).</summary>
    private sealed class SlowGroupSends(ILogger<DefaultHubLifetimeManager<OverlayHub>> logger) : DefaultHubLifetimeManager<OverlayHub>(logger)
    {
        public override async Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default)
        {
            await base.SendGroupsAsync(groupNames, methodName, args, cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }
}
