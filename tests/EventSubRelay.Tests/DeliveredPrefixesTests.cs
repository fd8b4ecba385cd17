using EventSubRelay.Processing;

namespace EventSubRelay.Tests;

public sealed class DeliveredPrefixesTests
{
    [Fact]
    public void The_prefix_moves_only_over_batches_with_none_before_them_still_under_way()
    {
        var prefixes = new DeliveredPrefixes();
        var first = prefixes.Begin(owner: 7, lastSeq: 10);
        var second = prefixes.Begin(owner: 7, lastSeq: 20);
        var third = prefixes.Begin(owner: 7, lastSeq: 30);

        // A later batch's lane finished first: nothing may be claimed while the first is still being sent.
        prefixes.Delivered(third).Should().BeFalse();
        prefixes.Unwritten().Should().BeEmpty();

        prefixes.Delivered(first).Should().BeTrue();
        prefixes.Unwritten().Should().Equal((7L, 10L));

        prefixes.Delivered(second).Should().BeTrue();
        prefixes.Unwritten().Should().Equal((7L, 30L));
    }

    [Fact]
    public void Owners_move_independently_and_a_written_prefix_is_not_written_again()
    {
        var prefixes = new DeliveredPrefixes();
        var stuck = prefixes.Begin(owner: 1, lastSeq: 5);
        var adopted = prefixes.Begin(owner: 2, lastSeq: 3);

        prefixes.Delivered(adopted).Should().BeTrue();
        prefixes.Unwritten().Should().Equal((2L, 3L));
        prefixes.Written(prefixes.Unwritten());
        prefixes.Unwritten().Should().BeEmpty();

        prefixes.Delivered(stuck).Should().BeTrue();
        prefixes.Unwritten().Should().Equal((1L, 5L));
    }

    [Fact]
    public void An_owner_with_nothing_under_way_continues_from_where_it_reached()
    {
        var prefixes = new DeliveredPrefixes();
        prefixes.Delivered(prefixes.Begin(owner: 4, lastSeq: 8));
        prefixes.Written(prefixes.Unwritten());

        var next = prefixes.Begin(owner: 4, lastSeq: 12);
        prefixes.Unwritten().Should().BeEmpty("the new batch is not delivered yet");
        prefixes.Delivered(next);
        prefixes.Unwritten().Should().Equal((4L, 12L));
    }
}
