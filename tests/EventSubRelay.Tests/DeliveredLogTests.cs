using EventSubRelay.Overlay;
using Microsoft.Extensions.Time.Testing;

namespace EventSubRelay.Tests;

public sealed class DeliveredLogTests
{
    [Fact]
    public void Remembers_events_in_any_order_and_lists_those_above_a_sequence_number()
    {
        var log = new DeliveredLog(new FakeTimeProvider());
        foreach (var seq in new long[] { 48, 16, 32, 0 })
        {
            log.Add(seq);
        }

        log.Contains(16).Should().BeTrue();
        log.Contains(0).Should().BeFalse("test alerts (seq 0) are not stored, so there is nothing to skip");
        var (floor, delivered) = log.Since(20);
        floor.Should().Be(20);
        delivered.Should().BeEquivalentTo(new long[] { 32, 48 });
    }

    [Fact]
    public void Forgets_what_is_older_than_its_retention_and_never_lists_below_what_it_forgot()
    {
        var time = new FakeTimeProvider();
        var log = new DeliveredLog(time);
        log.Add(64);
        log.Add(16);
        time.Advance(DeliveredLog.Retention + TimeSpan.FromSeconds(1));
        log.Add(80);

        log.Contains(64).Should().BeFalse();
        log.Contains(16).Should().BeFalse();
        var (floor, delivered) = log.Since(0);
        floor.Should().Be(64, "an event below a forgotten one might have been given already");
        delivered.Should().Equal(80);
    }

    [Fact]
    public void Keeps_at_most_its_capacity()
    {
        var log = new DeliveredLog(new FakeTimeProvider());
        for (long seq = 1; seq <= DeliveredLog.Capacity + 10; seq++)
        {
            log.Add(seq);
        }

        log.Floor.Should().Be(10);
        log.Since(0).Delivered.Should().HaveCount(DeliveredLog.Capacity);
    }
}
