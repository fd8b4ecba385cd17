using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSubRelay.Overlay;

/// <summary>Reads stored overlay events: what a resuming client missed, and recent history.</summary>
/// <remarks>
/// A reconnect storm asks for thousands of replays at once. They run at most <see cref="Data.DatabaseBudget.Replays"/>
/// at a time and the others wait their turn, oldest first, instead of failing or taking every shared connection:
/// a replay is late by the queue, never lost.
/// </remarks>
internal sealed class OverlayReplay(NpgsqlDataSource dataSource, Data.DatabaseBudget budget, IOptions<OverlayOptions> options, TimeProvider time) : IDisposable
{
    private readonly ConcurrencyLimiter _reads = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = budget.Replays,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    private const string Columns = "e.seq, e.id, e.type, e.is_test, e.time_stamp, e.data::text";

    // An event was missed if it is at or below the start of every subscription that covers it
    // (later ones reached the client live) and fresh enough for its type.
    private const string MissedFilter = """
        e.broadcaster_user_id = @broadcaster AND e.seq > @after
        AND e.seq <= (SELECT MIN(s.up_to) FROM unnest(@types, @up_to) AS s(type, up_to) WHERE s.type = '*' OR s.type = e.type)
        """;

    /// <summary>The missed events to send (oldest first) and how many were left out by the replay limits.</summary>
    public async Task<(IReadOnlyList<OverlayEnvelope> Events, int Skipped)> MissedAsync(
        string broadcasterUserId, long afterSeq, IReadOnlyList<(string Type, long UpTo)> subscriptions, CancellationToken cancellationToken)
    {
        if (subscriptions.Count == 0)
        {
            return ([], 0);
        }

        var settings = options.Value;
        var now = time.GetUtcNow().ToUniversalTime();
        var fresh = settings.ReplayFreshnessMinutes.Where(f => f.Value < settings.ReplayWindowMinutes).ToList();

        using var turn = await TakeTurnAsync(cancellationToken);
        await using var batch = dataSource.CreateBatch();
        var count = new NpgsqlBatchCommand($"SELECT count(*) FROM overlay_events e WHERE {MissedFilter}");
        var select = new NpgsqlBatchCommand($"""
            SELECT * FROM (
                SELECT {Columns} FROM overlay_events e
                WHERE {MissedFilter}
                  AND e.time_stamp >= @now - make_interval(mins => COALESCE(
                        (SELECT f.minutes FROM unnest(@fresh_types, @fresh_minutes) AS f(type, minutes) WHERE f.type = e.type), @window))
                ORDER BY e.seq DESC
                LIMIT @limit) recent
            ORDER BY seq
            """);
        foreach (var command in new[] { count, select })
        {
            command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
            command.Parameters.Add(new NpgsqlParameter<long>("after", afterSeq));
            command.Parameters.Add(new NpgsqlParameter<string[]>("types", subscriptions.Select(s => s.Type).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<long[]>("up_to", subscriptions.Select(s => s.UpTo).ToArray()));
        }

        select.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        select.Parameters.Add(new NpgsqlParameter<string[]>("fresh_types", fresh.Select(f => f.Key).ToArray()));
        select.Parameters.Add(new NpgsqlParameter<int[]>("fresh_minutes", fresh.Select(f => f.Value).ToArray()));
        select.Parameters.Add(new NpgsqlParameter<int>("window", settings.ReplayWindowMinutes));
        select.Parameters.Add(new NpgsqlParameter<int>("limit", settings.ReplayMaxEvents));
        batch.BatchCommands.Add(count);
        batch.BatchCommands.Add(select);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken);
        var events = await ReadEnvelopesAsync(reader, broadcasterUserId, cancellationToken);
        return (events, (int)(total - events.Count));
    }

    /// <summary>The highest sequence number stored for the broadcaster (0 when none).</summary>
    public async Task<long> LatestSeqAsync(string broadcasterUserId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT COALESCE(MAX(seq), 0) FROM overlay_events WHERE broadcaster_user_id = @broadcaster");
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The broadcaster's most recent events of the given types (all when null), oldest first.</summary>
    public async Task<IReadOnlyList<OverlayEnvelope>> RecentAsync(string broadcasterUserId, int count, string[]? types, CancellationToken cancellationToken)
    {
        using var turn = await TakeTurnAsync(cancellationToken);
        await using var command = dataSource.CreateCommand($"""
            SELECT * FROM (
                SELECT {Columns} FROM overlay_events e
                WHERE e.broadcaster_user_id = @broadcaster AND (@types::text[] IS NULL OR e.type = ANY(@types))
                ORDER BY e.seq DESC
                LIMIT @limit) recent
            ORDER BY seq
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter("types", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)types ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<int>("limit", count));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadEnvelopesAsync(reader, broadcasterUserId, cancellationToken);
    }

    public void Dispose() => _reads.Dispose();

    private async Task<RateLimitLease> TakeTurnAsync(CancellationToken cancellationToken)
    {
        var lease = await _reads.AcquireAsync(1, cancellationToken);
        return lease.IsAcquired ? lease : throw new InvalidOperationException("The replay queue is unbounded; a turn is always granted.");
    }

    private static async Task<List<OverlayEnvelope>> ReadEnvelopesAsync(NpgsqlDataReader reader, string broadcasterUserId, CancellationToken cancellationToken)
    {
        var envelopes = new List<OverlayEnvelope>();
        while (await reader.ReadAsync(cancellationToken))
        {
            using var data = JsonDocument.Parse(reader.GetString(5));
            envelopes.Add(new OverlayEnvelope(
                reader.GetString(1),
                reader.GetInt64(0),
                reader.GetFieldValue<DateTimeOffset>(4),
                broadcasterUserId,
                reader.GetBoolean(3),
                OverlayEventKind.Twitch(reader.GetString(2)),
                data.RootElement.Clone()));
        }

        return envelopes;
    }
}
