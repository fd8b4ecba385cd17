using System.Collections.Concurrent;

namespace EventSubRelay.Overlay;

/// <summary>
/// The sequencing gate, one per broadcaster: delivery sends a broadcaster's events in its turns, and a
/// connection joins (or resumes) the broadcaster's groups in a turn of its own, so a joining connection learns
/// exactly which events it missed (those up to <see cref="Turn.ReadHorizonAsync"/>) and receives every later one
/// live: no gap, and on a single instance no duplicate. Broadcasters never wait for each other.
/// </summary>
/// <param name="sharedGroups">Whether other instances send to the same broadcasters (the Redis backplane).</param>
/// <param name="latestStoredSeq">Reads the highest sequence number stored by any instance.</param>
/// <param name="time">With shared groups, dates the entries of each broadcaster's <see cref="DeliveredLog"/>.</param>
internal sealed class OverlaySequencer(bool sharedGroups, Func<CancellationToken, Task<long>> latestStoredSeq, TimeProvider time) : IDisposable
{
    private readonly bool _sharedGroups = sharedGroups;
    private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<long> _floor = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LatestStoredSeq _stored = new(latestStoredSeq);

    /// <summary>
    /// Opens the gates to joins once what was committed before this instance started has been sent:
    /// <paramref name="floor"/> is the highest sequence number stored then, so every event up to it went out.
    /// </summary>
    public void Begin(long floor) => _floor.TrySetResult(floor);

    /// <summary>Waits for the broadcaster's gate to send its events; report each with <see cref="Turn.Sent"/>.</summary>
    public Task<Turn> SendTurnAsync(string broadcasterUserId, CancellationToken cancellationToken) =>
        _gates.GetOrAdd(broadcasterUserId, _ => new Gate(_sharedGroups ? new DeliveredLog(time) : null)).EnterAsync(this, cancellationToken);

    /// <summary>Waits for <see cref="Begin"/>, then for the broadcaster's gate, to change a connection's groups.</summary>
    public async Task<Turn> JoinTurnAsync(string broadcasterUserId, CancellationToken cancellationToken)
    {
        await _floor.Task.WaitAsync(cancellationToken);
        return await SendTurnAsync(broadcasterUserId, cancellationToken);
    }

    public void Dispose()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }

    /// <summary>A hold on one broadcaster's gate; disposing it lets the next turn in.</summary>
    internal sealed class Turn : IDisposable
    {
        private readonly OverlaySequencer _sequencer;
        private readonly Gate _gate;
        private bool _disposed;

        internal Turn(OverlaySequencer sequencer, Gate gate) => (_sequencer, _gate) = (sequencer, gate);

        /// <summary>Records that the event with this sequence number has gone out to the broadcaster's groups.</summary>
        public void Sent(long seq)
        {
            _gate.LastSent = Math.Max(_gate.LastSent, seq);
            _gate.Delivered?.Add(seq);
        }

        /// <summary>
        /// Whether this instance has already given the stored event to its overlays (known only with shared
        /// groups, where an event can come again: from the backplane, a retried publish or a catch-up).
        /// </summary>
        public bool HasSent(long seq) => _gate.Delivered?.Contains(seq) == true;

        /// <summary>
        /// What a catch-up may skip: the lowest sequence number it must consider (everything at or below it is
        /// older than the log remembers) and the events above it that went out. Null without shared groups.
        /// </summary>
        public (long Floor, long[] Delivered)? DeliveredSince(long after) => _gate.Delivered?.Since(after);

        /// <summary>
        /// The sequence number up to which a connection that joined a group in this turn received nothing live,
        /// so that a replay up to it and the live events after it fit without gap. Read it after the joins.
        /// </summary>
        /// <remarks>
        /// Alone, that is the last event sent to the broadcaster: delivery stores each event before its turn to
        /// send it, so whatever is stored up to there has gone out (the rest of a batch whose send failed has
        /// higher sequence numbers and goes out when the send is retried). Other instances' events reach the
        /// groups through the backplane (<see cref="OverlayBackplane"/>), in turns of this gate too; they are stored
        /// before they are published, so the highest
        /// stored sequence number, read after the join, covers every one the connection was too late for. One that
        /// another instance stored just before that read and sends just after the join arrives both live and in
        /// the replay: clients of several instances drop repeated ids (see docs/overlay-api.md). The read is shared
        /// by every join waiting for it (<see cref="LatestStoredSeq"/>), so a storm of joins costs a few queries.
        /// </remarks>
        public async Task<long> ReadHorizonAsync(CancellationToken cancellationToken)
        {
            var sent = Math.Max(_gate.LastSent, await _sequencer._floor.Task);
            return _sequencer._sharedGroups ? Math.Max(sent, await _sequencer._stored.ReadAsync(cancellationToken)) : sent;
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _gate.Release();
            }
        }
    }

    internal sealed class Gate(DeliveredLog? delivered) : IDisposable
    {
        private readonly SemaphoreSlim _semaphore = new(1, 1);

        /// <summary>The stored events this instance gave its overlays lately; only with shared groups, changed only in a turn.</summary>
        public DeliveredLog? Delivered { get; } = delivered;

        /// <summary>The highest sequence number sent to the broadcaster by this instance; written only in a turn.</summary>
        public long LastSent { get; set; }

        public async Task<Turn> EnterAsync(OverlaySequencer sequencer, CancellationToken cancellationToken)
        {
            await _semaphore.WaitAsync(cancellationToken);
            return new Turn(sequencer, this);
        }

        public void Release() => _semaphore.Release();

        public void Dispose() => _semaphore.Dispose();
    }
}

/// <summary>
/// The stored events one broadcaster's overlays on this instance were given, by sequence number, for the last
/// <see cref="Retention"/> and at most <see cref="Capacity"/> of them: what a catch-up after a backplane outage
/// must not send again. Events from several instances arrive out of sequence order, so this is a set, not a
/// cursor; <see cref="Floor"/> is the highest sequence number it has forgotten.
/// </summary>
internal sealed class DeliveredLog(TimeProvider time)
{
    public const int Capacity = 20_000;
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    private readonly HashSet<long> _seqs = [];
    private readonly Queue<(long Seq, long At)> _order = new();

    public long Floor { get; private set; }

    public void Add(long seq)
    {
        if (seq <= 0 || !_seqs.Add(seq))
        {
            return;
        }

        var now = time.GetTimestamp();
        _order.Enqueue((seq, now));
        while (_order.Count > Capacity || time.GetElapsedTime(_order.Peek().At, now) > Retention)
        {
            var (old, _) = _order.Dequeue();
            _seqs.Remove(old);
            Floor = Math.Max(Floor, old);
        }
    }

    public bool Contains(long seq) => _seqs.Contains(seq);

    public (long Floor, long[] Delivered) Since(long after)
    {
        var floor = Math.Max(Floor, after);
        return (floor, [.. _seqs.Where(s => s > floor)]);
    }
}

/// <summary>
/// One read of the highest stored sequence number for all callers that want one at the same time. A caller
/// always gets a read that started after its call (so it sees what was stored before it asked): arriving while
/// a read is under way, it waits for the next one, which every caller arriving meanwhile shares.
/// </summary>
internal sealed class LatestStoredSeq(Func<CancellationToken, Task<long>> read)
{
    private readonly Lock _lock = new();
    private Task<long>? _running;
    private Task<long>? _next;

    public Task<long> ReadAsync(CancellationToken cancellationToken)
    {
        Task<long> shared;
        lock (_lock)
        {
            if (_next is not null)
            {
                shared = _next;
            }
            else if (_running is null || _running.IsCompleted)
            {
                shared = _running = read(CancellationToken.None);
            }
            else
            {
                shared = _next = AfterAsync(_running);
            }
        }

        return shared.WaitAsync(cancellationToken);
    }

    private async Task<long> AfterAsync(Task<long> running)
    {
        // Always yields, so the caller's lock is released before this one is taken.
        await ((Task)running).ConfigureAwait(ConfigureAwaitOptions.ForceYielding | ConfigureAwaitOptions.SuppressThrowing);
        Task<long> mine;
        lock (_lock)
        {
            mine = _running = read(CancellationToken.None);
            _next = null;
        }

        return await mine;
    }
}
