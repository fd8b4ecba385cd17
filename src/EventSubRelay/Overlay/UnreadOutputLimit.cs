using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EventSubRelay.Overlay;

/// <summary>
/// Bounds what an overlay connection may leave unread. SignalR's writes to a connection wait while its output
/// buffer (<c>TransportMaxBufferSize</c>) is full, and a group send waits for every connection of the group: one
/// overlay that stops reading would hold up its broadcaster's sends, and through delivery's bounded batches in
/// flight everyone's, until SignalR's transport send timeout (10 s) closed it. Here a connection whose buffer is
/// full is dropped at once instead, so no send ever waits for a client that does not read. The client catches up
/// with <c>Resume</c> when it reconnects.
/// </summary>
internal static class UnreadOutputLimit
{
    private static readonly AsyncLocal<bool> WaitingAllowed = new();

    /// <summary>
    /// Until disposed, writes made here wait for the client to read instead of dropping it: for what a connection
    /// asked for itself and is bounded (its replay, under a timeout of its own), which may come faster than any
    /// network carries it. Live sends never wait.
    /// </summary>
    public static Patience AllowWaiting()
    {
        WaitingAllowed.Value = true;
        return default;
    }

    /// <summary>Wraps each connection's output; set <c>TransportMaxBufferSize</c> to the bound it enforces.</summary>
    public static IConnectionBuilder UseUnreadOutputLimit(this IConnectionBuilder connections, long maxUnreadBytes, ILogger logger) =>
        connections.Use(next => connection =>
        {
            var transport = connection.Transport;
            connection.Transport = new DuplexPipe(transport.Input, new DroppingWriter(transport.Output, () => Drop(connection, maxUnreadBytes, logger)));
            return next(connection);
        });

    private static void Drop(ConnectionContext connection, long maxUnreadBytes, ILogger logger)
    {
        var broadcaster = connection.Features.Get<IConnectionUserFeature>()?.User?.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)?.Value;
        logger.LogWarning("Dropped overlay connection {ConnectionId} of broadcaster {BroadcasterUserId}: its client left {MaxUnreadBytes} bytes unread; it resumes when it reconnects",
            connection.ConnectionId, broadcaster, maxUnreadBytes);
        connection.Abort(new ConnectionAbortedException("The client does not read what is sent to it."));
    }

    public readonly struct Patience : IDisposable
    {
        public void Dispose() => WaitingAllowed.Value = false;
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>
    /// Passes writes through while the buffer has room. A flush that would wait (the buffer is full) drops the
    /// connection and completes at once; from then on, what is written is discarded until the connection is gone.
    /// </summary>
    /// <remarks>
    /// The connection writes through one writer at a time (SignalR's write lock), so the flag needs no lock: it only
    /// changes in a flush, between one write and the next.
    /// </remarks>
    private sealed class DroppingWriter(PipeWriter inner, Action drop) : PipeWriter
    {
        private static readonly FlushResult Gone = new(isCanceled: false, isCompleted: true);

        private volatile bool _dropped;
        private byte[] _discard = [];

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => _dropped ? 0 : inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            if (!_dropped)
            {
                inner.Advance(bytes);
            }
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _dropped ? Discard(sizeHint) : inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _dropped ? Discard(sizeHint) : inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
            _dropped ? new(Gone) : Watch(inner.FlushAsync(cancellationToken));

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
            _dropped ? new(Gone) : Watch(inner.WriteAsync(source, cancellationToken));

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        private ValueTask<FlushResult> Watch(ValueTask<FlushResult> flush)
        {
            if (flush.IsCompleted || WaitingAllowed.Value)
            {
                return flush;
            }

            _dropped = true;
            _ = ObserveAsync(flush);
            drop();
            return new(Gone);
        }

        /// <summary>The waiting flush ends when the aborted connection's transport lets go of the buffer.</summary>
        private static async Task ObserveAsync(ValueTask<FlushResult> flush)
        {
            try
            {
                await flush;
            }
            catch (Exception)
            {
                // The connection is gone either way.
            }
        }

        private byte[] Discard(int sizeHint)
        {
            if (_discard.Length < Math.Max(sizeHint, 4096))
            {
                _discard = new byte[Math.Max(sizeHint, 4096)];
            }

            return _discard;
        }
    }
}
