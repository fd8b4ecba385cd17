using EventSubRelay.Overlay;

namespace EventSubRelay.Tests;

public sealed class LatestStoredSeqTests
{
    [Fact]
    public async Task Callers_waiting_at_the_same_time_share_one_read()
    {
        var reads = 0;
        var release = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var latest = new LatestStoredSeq(_ => Interlocked.Increment(ref reads) == 1 ? release.Task : next.Task);

        var first = latest.ReadAsync(CancellationToken.None);
        var queued = Enumerable.Range(0, 100).Select(_ => latest.ReadAsync(CancellationToken.None)).ToList();
        release.SetResult(5);
        next.SetResult(7);

        (await first).Should().Be(5);
        (await Task.WhenAll(queued)).Should().OnlyContain(seq => seq == 7);
        reads.Should().Be(2);
    }

    [Fact]
    public async Task A_caller_arriving_during_a_read_gets_a_read_that_started_after_it_asked()
    {
        var started = new List<TaskCompletionSource<long>>();
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var latest = new LatestStoredSeq(_ =>
        {
            var read = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (started)
            {
                started.Add(read);
                if (started.Count == 2)
                {
                    secondStarted.SetResult();
                }
            }

            return read.Task;
        });

        var early = latest.ReadAsync(CancellationToken.None);
        var late = latest.ReadAsync(CancellationToken.None);
        started.Should().HaveCount(1, "the second read starts only when the first is done");
        started[0].SetResult(1);
        (await early).Should().Be(1);

        await secondStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        late.IsCompleted.Should().BeFalse("the late caller must not take the read that began before it asked");
        started[1].SetResult(2);
        (await late).Should().Be(2);
    }

    [Fact]
    public async Task A_failed_read_fails_its_callers_and_the_next_caller_reads_again()
    {
        var calls = 0;
        var latest = new LatestStoredSeq(_ => ++calls == 1 ? Task.FromException<long>(new TimeoutException()) : Task.FromResult(3L));

        await latest.Invoking(l => l.ReadAsync(CancellationToken.None)).Should().ThrowAsync<TimeoutException>();
        (await latest.ReadAsync(CancellationToken.None)).Should().Be(3);
    }
}
