using System.Collections.Concurrent;
using Npgsql;

namespace EventSubRelay.StreamerBot;

/// <summary>
/// Per overlay token, the sequence number of the last event sent on the Streamer.bot endpoint, kept in PostgreSQL
/// so that any instance can resume a reconnecting client. Advances are coalesced: one writer upserts whatever has
/// moved since its last write, so a busy stream costs one statement per round, not one per event and socket.
/// </summary>
internal sealed class StreamerBotCursors(NpgsqlDataSource dataSource, TimeProvider time, ILogger<StreamerBotCursors> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, long> _pending = new();
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly SemaphoreSlim _writing = new(1, 1);

    public void Advance(Guid tokenId, long seq)
    {
        if (seq <= 0)
        {
            return;
        }

        _pending.AddOrUpdate(tokenId, seq, (_, current) => Math.Max(current, seq));
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    /// <summary>The token's cursor, after writing what this instance has pending; null when it never received an event here.</summary>
    public async Task<long?> ReadAsync(Guid tokenId, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        await using var command = dataSource.CreateCommand("SELECT last_seq FROM streamerbot_cursors WHERE token_id = @token");
        command.Parameters.Add(new NpgsqlParameter<Guid>("token", tokenId));
        return await command.ExecuteScalarAsync(cancellationToken) is long seq ? seq : null;
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            var batch = new List<(Guid Token, long Seq)>();
            foreach (var token in _pending.Keys)
            {
                if (_pending.TryRemove(token, out var seq))
                {
                    batch.Add((token, seq));
                }
            }

            if (batch.Count == 0)
            {
                return;
            }

            try
            {
                await using var command = dataSource.CreateCommand("""
                    INSERT INTO streamerbot_cursors (token_id, last_seq, updated_at)
                    SELECT c.token, c.seq, @now FROM unnest(@tokens, @seqs) AS c(token, seq)
                    WHERE EXISTS (SELECT 1 FROM overlay_tokens t WHERE t.id = c.token)
                    ON CONFLICT (token_id) DO UPDATE SET last_seq = GREATEST(streamerbot_cursors.last_seq, excluded.last_seq), updated_at = excluded.updated_at
                    """);
                command.Parameters.Add(new NpgsqlParameter<Guid[]>("tokens", [.. batch.Select(b => b.Token)]));
                command.Parameters.Add(new NpgsqlParameter<long[]>("seqs", [.. batch.Select(b => b.Seq)]));
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", time.GetUtcNow()));
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch
            {
                // Keep them for the next round.
                foreach (var (token, seq) in batch)
                {
                    _pending.AddOrUpdate(token, seq, (_, current) => Math.Max(current, seq));
                }

                throw;
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(stoppingToken);
                await FlushAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Could not store the Streamer.bot catch-up cursors; retrying in a second");
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await FlushAsync(CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public override void Dispose()
    {
        _signal.Dispose();
        _writing.Dispose();
        base.Dispose();
    }
}
