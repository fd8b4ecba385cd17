using System.Text.Json;
using EventSubRelay.Events;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

/// <summary>Storing a batch's events again (a redelivery after a crash or a failed attempt) sends each stored event once more, and nothing else.</summary>
public sealed class OverlayEventStoreTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    private OverlayEventStore Store => relay.Factory.Services.GetRequiredService<OverlayEventStore>();

    [Fact]
    public async Task A_redelivery_sends_what_an_earlier_attempt_stored_but_not_another_event_stored_at_the_same_number()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var seq = 16 * (4_000_000_000L + Random.Shared.Next(1_000_000));
        var first = Event(broadcaster, "first", seq);
        var second = Event(broadcaster, "second", seq + 1);

        (await Store.StoreAsync([first, second], redelivery: false, CancellationToken.None)).Should().BeEquivalentTo([seq, seq + 1]);

        // Not a redelivery: what is stored already is not sent again.
        (await Store.StoreAsync([first], redelivery: false, CancellationToken.None)).Should().BeEmpty();

        // A redelivery: the events stored before are sent again, but not a different event that maps to a number taken
        // by another (this attempt's mapping came out otherwise), and a new one is stored and sent.
        var otherAtSecond = Event(broadcaster, "other", seq + 1);
        var third = Event(broadcaster, "third", seq + 2);
        (await Store.StoreAsync([first, otherAtSecond, third], redelivery: true, CancellationToken.None)).Should().BeEquivalentTo([seq, seq + 2]);
    }

    private static OverlayEvent Event(string broadcaster, string name, long seq) =>
        new($"{broadcaster}-{name}", $"{broadcaster}-message", broadcaster, OverlayTypes.Follow, false, DateTimeOffset.UtcNow,
            JsonSerializer.SerializeToElement(new { name }), seq);
}
