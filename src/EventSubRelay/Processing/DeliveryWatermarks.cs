using System.Threading.Channels;

namespace EventSubRelay.Processing;

/// <summary>
/// Records each owner's delivery watermark (see <see cref="Data.DeliveryWatermark"/>) as its batches are delivered
/// (<see cref="DeliveredPrefixes"/>), off the path of the next delivery: one statement at a time, for every owner that
/// moved meanwhile, at most every <see cref="MinInterval"/> (under load a batch is delivered every millisecond or two,
/// and each write is a statement and a commit). A lost or late write only means the outbox sends the same events
/// (same ids and sequence numbers) again after a crash.
/// </summary>
internal sealed class DeliveryWatermarks(NotificationStore store, TimeProvider time, ILogger<DeliveryWatermarks> logger)
{
    /// <summary>The least time between two writes: after a crash, at most this much more is sent again.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);

    private readonly DeliveredPrefixes _prefixes = new();
    private readonly Channel<bool> _moved = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Registers a batch given to delivery (see <see cref="DeliveredPrefixes.Begin"/> for the order this needs).</summary>
    public DeliveredPrefixes.Batch Begin(DeliveryBatch batch) => _prefixes.Begin(batch.Owner, batch.Notifications[^1].Seq);

    /// <summary>The batch is delivered: its owner's watermark moves over it once every batch of the owner before it is too.</summary>
    public void Delivered(DeliveredPrefixes.Batch batch)
    {
        if (_prefixes.Delivered(batch))
        {
            _moved.Writer.TryWrite(true);
        }
    }

    /// <summary>No more batches come; <see cref="RunAsync"/> ends once it has written the watermarks reached.</summary>
    public void Complete() => _moved.Writer.TryComplete();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (await _moved.Reader.WaitToReadAsync(CancellationToken.None))
        {
            _moved.Reader.TryRead(out _);
            var moved = _prefixes.Unwritten();
            if (moved.Count == 0)
            {
                continue;
            }

            var started = time.GetTimestamp();
            try
            {
                await store.AdvanceWatermarksAsync(moved, cancellationToken);
                _prefixes.Written(moved);
            }
            catch (Exception exception)
            {
                // The events went out; the next write carries these watermarks too, and without one they are sent again after a restart.
                logger.LogWarning(exception, "Could not record the delivery of {Owners} instances' notifications (instance {InstanceKey} through {Seq})",
                    moved.Count, moved[0].Owner, moved[0].DeliveredThrough);
            }

            // What is delivered meanwhile goes into the next write (also the last one, at shutdown: the wait is short).
            if (MinInterval - time.GetElapsedTime(started) is { Ticks: > 0 } rest)
            {
                await Task.Delay(rest, time, CancellationToken.None);
            }
        }
    }
}

/// <summary>
/// Per owner, the highest sequence number up to which every batch given to delivery is delivered. Batches are
/// delivered side by side in lanes and finish in any order, so an owner's prefix only moves over batches that are
/// done and have no batch before them still under way. Thread-safe.
/// </summary>
internal sealed class DeliveredPrefixes
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, Queue<Batch>> _underWay = [];
    private readonly Dictionary<long, long> _reached = [];
    private readonly Dictionary<long, long> _written = [];

    /// <summary>
    /// Registers a batch whose highest sequence number is <paramref name="lastSeq"/>. An owner's batches must be
    /// registered in sequence order, each before any later one can be done: the delivery worker takes batches one at
    /// a time, the ingest worker commits one batch after the other (so each one's sequence numbers are above the last
    /// one's), and the outbox reads an owner's notifications page after page.
    /// </summary>
    public Batch Begin(long owner, long lastSeq)
    {
        var batch = new Batch(owner, lastSeq);
        lock (_lock)
        {
            if (!_underWay.TryGetValue(owner, out var queue))
            {
                _underWay[owner] = queue = new Queue<Batch>();
            }

            queue.Enqueue(batch);
        }

        return batch;
    }

    /// <summary>Marks the batch delivered; true when its owner's prefix moved.</summary>
    public bool Delivered(Batch batch)
    {
        lock (_lock)
        {
            batch.Done = true;
            var queue = _underWay[batch.Owner];
            var moved = false;
            while (queue.TryPeek(out var first) && first.Done)
            {
                queue.Dequeue();
                _reached[batch.Owner] = first.LastSeq;
                moved = true;
            }

            if (queue.Count == 0)
            {
                _underWay.Remove(batch.Owner);
            }

            return moved;
        }
    }

    /// <summary>The owners whose prefix moved since it was last <see cref="Written"/>, with where it is now.</summary>
    public List<(long Owner, long DeliveredThrough)> Unwritten()
    {
        lock (_lock)
        {
            return [.. _reached.Where(r => !_written.TryGetValue(r.Key, out var written) || written != r.Value).Select(r => (r.Key, r.Value))];
        }
    }

    public void Written(IEnumerable<(long Owner, long DeliveredThrough)> watermarks)
    {
        lock (_lock)
        {
            foreach (var (owner, through) in watermarks)
            {
                _written[owner] = through;
            }
        }
    }

    /// <summary>One batch under way: its owner, its highest sequence number, and whether it is delivered (under the lock).</summary>
    internal sealed class Batch(long owner, long lastSeq)
    {
        public long Owner { get; } = owner;
        public long LastSeq { get; } = lastSeq;
        public bool Done { get; set; }
    }
}
