using System.Text.Json;
using System.Threading.RateLimiting;
using EventSubRelay.Data;
using Npgsql;
using NpgsqlTypes;

namespace EventSubRelay.Events;

/// <summary>What a replay may send: events at most <paramref name="WindowMinutes"/> old (less for the types in <paramref name="FreshnessMinutes"/>), the newest <paramref name="MaxEvents"/>.</summary>
internal sealed record ReplayLimits(int WindowMinutes, int MaxEvents, IReadOnlyDictionary<string, int> FreshnessMinutes);

/// <summary>
/// Every statement on <c>overlay_events</c> that the relay runs while it is live: delivery stores events,
/// overlays read what they missed and recent history, the status endpoint the last event a connection got,
/// the mapper a reward's last description. (Retention, account unlinking and the dashboard's list delete and
/// read through EF Core, off the hot path.)
/// </summary>
/// <remarks>
/// Delivery's statements use the delivery pool (<see cref="DatabaseBudget"/>), so no reader can starve them.
/// A reconnect storm asks for thousands of replays at once: they run at most <see cref="DatabaseBudget.Replays"/>
/// at a time and the others wait their turn, oldest first, instead of failing or taking every shared connection.
/// </remarks>
internal sealed class OverlayEventStore(
    NpgsqlDataSource shared,
    [FromKeyedServices(DatabaseBudget.DeliveryKey)] NpgsqlDataSource delivery,
    DatabaseBudget budget,
    TimeProvider time) : IDisposable
{
    private const string Columns = "e.seq, e.id, e.type, e.is_test, e.time_stamp, e.data::text";

    // An event was missed if it is at or below the start of every subscription that covers it
    // (later ones reached the client live).
    private const string MissedFilter = """
        e.broadcaster_user_id = @broadcaster AND e.seq > @after
        AND e.seq <= (SELECT MIN(s.up_to) FROM unnest(@types, @up_to) AS s(type, up_to) WHERE s.type = '*' OR s.type = e.type)
        """;

    private readonly ConcurrencyLimiter _replays = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = budget.Replays,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>
    /// Stores the events, skipping ids already stored, and returns the ids to send: those it stored and, on a
    /// <paramref name="redelivery"/>, those stored by an earlier attempt (which may never have gone out). An event
    /// that was deduplicated against another one has a different id and is left out either way.
    /// </summary>
    public async Task<IReadOnlySet<string>> StoreAsync(IReadOnlyList<OverlayEvent> events, bool redelivery, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return new HashSet<string>();
        }

        const string sql = """
            INSERT INTO overlay_events (seq, id, notification_message_id, broadcaster_user_id, type, is_test, time_stamp, data, dedup_key)
            SELECT * FROM unnest(@seq, @id, @notification_message_id, @broadcaster_user_id, @type, @is_test, @time_stamp, @data::jsonb[], @dedup_key)
            ON CONFLICT DO NOTHING
            RETURNING id
            """;

        await using var command = delivery.CreateCommand(sql);
        command.AddArray( "seq", events, e => e.Seq, NpgsqlDbType.Bigint);
        command.AddArray( "id", events, e => e.Id);
        command.AddArray( "notification_message_id", events, e => e.NotificationMessageId);
        command.AddArray( "broadcaster_user_id", events, e => e.BroadcasterUserId);
        command.AddArray( "type", events, e => e.Type);
        command.AddArray( "is_test", events, e => e.IsTest, NpgsqlDbType.Boolean);
        command.AddArray( "time_stamp", events, e => e.TimeStamp.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        command.AddArray( "data", events, e => e.Data.GetRawText());
        command.AddArray( "dedup_key", events, e => e.DedupKey);
        var stored = await ReadIdsAsync(command, cancellationToken);
        if (!redelivery || stored.Count == events.Count)
        {
            return stored;
        }

        await using var already = delivery.CreateCommand("SELECT id FROM overlay_events WHERE id = ANY(@ids)");
        already.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. events.Select(e => e.Id).Where(id => !stored.Contains(id))]));
        stored.UnionWith(await ReadIdsAsync(already, cancellationToken));
        return stored;
    }

    /// <summary>The highest sequence number stored for any broadcaster (0 when none).</summary>
    public async Task<long> LatestSeqAsync(CancellationToken cancellationToken)
    {
        await using var command = delivery.CreateCommand("SELECT COALESCE(MAX(seq), 0) FROM overlay_events");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>An event is replayed only while younger than its type's freshness, or else the replay window.</summary>
    private const string FreshFilter = """
        e.time_stamp >= @now - make_interval(mins => COALESCE(
            (SELECT f.minutes FROM unnest(@fresh_types, @fresh_minutes) AS f(type, minutes) WHERE f.type = e.type), @window))
        """;

    /// <summary>The parameters of <see cref="FreshFilter"/>.</summary>
    private void AddFreshness(NpgsqlParameterCollection parameters, ReplayLimits limits)
    {
        var fresh = limits.FreshnessMinutes.Where(f => f.Value < limits.WindowMinutes).ToList();
        parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", time.GetUtcNow().ToUniversalTime()));
        parameters.Add(new NpgsqlParameter<string[]>("fresh_types", [.. fresh.Select(f => f.Key)]));
        parameters.Add(new NpgsqlParameter<int[]>("fresh_minutes", [.. fresh.Select(f => f.Value)]));
        parameters.Add(new NpgsqlParameter<int>("window", limits.WindowMinutes));
    }

    /// <summary>The missed events to send (oldest first) and how many the replay limits left out.</summary>
    public async Task<(IReadOnlyList<OverlayEnvelope> Events, int Skipped)> MissedAsync(
        string broadcasterUserId, long afterSeq, IReadOnlyList<(string Type, long UpTo)> subscriptions, ReplayLimits limits, CancellationToken cancellationToken)
    {
        if (subscriptions.Count == 0)
        {
            return ([], 0);
        }

        using var turn = await TakeReplayTurnAsync(cancellationToken);
        await using var batch = shared.CreateBatch();
        var count = new NpgsqlBatchCommand($"SELECT count(*) FROM overlay_events e WHERE {MissedFilter}");
        var select = new NpgsqlBatchCommand($"""
            SELECT * FROM (
                SELECT {Columns} FROM overlay_events e
                WHERE {MissedFilter}
                  AND {FreshFilter}
                ORDER BY e.seq DESC
                LIMIT @limit) recent
            ORDER BY seq
            """);
        foreach (var command in new[] { count, select })
        {
            command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
            command.Parameters.Add(new NpgsqlParameter<long>("after", afterSeq));
            command.Parameters.Add(new NpgsqlParameter<string[]>("types", [.. subscriptions.Select(s => s.Type)]));
            command.Parameters.Add(new NpgsqlParameter<long[]>("up_to", [.. subscriptions.Select(s => s.UpTo)]));
        }

        AddFreshness(select.Parameters, limits);
        select.Parameters.Add(new NpgsqlParameter<int>("limit", limits.MaxEvents));
        batch.BatchCommands.Add(count);
        batch.BatchCommands.Add(select);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken);
        var events = await ReadEnvelopesAsync(reader, broadcasterUserId, cancellationToken);
        return (events, (int)(total - events.Count));
    }

    /// <summary>
    /// The broadcaster's stored events above <paramref name="afterSeq"/>, oldest first and at most
    /// <paramref name="limit"/>, of the given types (all when null), leaving out those in
    /// <paramref name="delivered"/> and those older than the replay window or their type's freshness.
    /// </summary>
    public async Task<IReadOnlyList<OverlayEnvelope>> UndeliveredAsync(
        string broadcasterUserId, long afterSeq, long[] delivered, string[]? types, ReplayLimits limits, int limit, CancellationToken cancellationToken)
    {
        using var turn = await TakeReplayTurnAsync(cancellationToken);
        await using var command = shared.CreateCommand($"""
            SELECT {Columns} FROM overlay_events e
            WHERE e.broadcaster_user_id = @broadcaster AND e.seq > @after AND e.seq <> ALL(@delivered)
              AND (@types::text[] IS NULL OR e.type = ANY(@types))
              AND {FreshFilter}
            ORDER BY e.seq
            LIMIT @limit
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<long>("after", afterSeq));
        command.Parameters.Add(new NpgsqlParameter<long[]>("delivered", delivered));
        command.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)types ?? DBNull.Value });
        AddFreshness(command.Parameters, limits);
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadEnvelopesAsync(reader, broadcasterUserId, cancellationToken);
    }

    /// <summary>The broadcaster's most recent events of the given types (all when null), oldest first.</summary>
    public async Task<IReadOnlyList<OverlayEnvelope>> RecentAsync(string broadcasterUserId, int count, string[]? types, CancellationToken cancellationToken)
    {
        using var turn = await TakeReplayTurnAsync(cancellationToken);
        await using var command = shared.CreateCommand($"""
            SELECT * FROM (
                SELECT {Columns} FROM overlay_events e
                WHERE e.broadcaster_user_id = @broadcaster AND (@types::text[] IS NULL OR e.type = ANY(@types))
                ORDER BY e.seq DESC
                LIMIT @limit) recent
            ORDER BY seq
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)types ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<int>("limit", count));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadEnvelopesAsync(reader, broadcasterUserId, cancellationToken);
    }

    /// <summary>The newest stored event a connection got live: after its subscription began, of a type it subscribed to.</summary>
    public async Task<(string Id, string Type, long Seq, DateTimeOffset TimeStamp)?> LastSentAsync(
        string broadcasterUserId, IReadOnlyList<(string Type, long UpTo)> subscriptions, CancellationToken cancellationToken)
    {
        await using var command = shared.CreateCommand("""
            SELECT e.id, e.type, e.seq, e.time_stamp FROM overlay_events e
            WHERE e.broadcaster_user_id = @broadcaster
              AND EXISTS (SELECT 1 FROM unnest(@types, @since) AS s(type, since) WHERE (s.type = '*' OR s.type = e.type) AND e.seq > s.since)
            ORDER BY e.seq DESC LIMIT 1
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<string[]>("types", [.. subscriptions.Select(s => s.Type)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("since", [.. subscriptions.Select(s => s.UpTo)]));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3))
            : null;
    }

    /// <summary>The data of the channel's newest <c>RewardCreated</c>/<c>RewardUpdated</c> event for the reward, as JSON; null when none.</summary>
    public async Task<string?> LatestRewardAsync(string broadcasterUserId, string rewardId, CancellationToken cancellationToken)
    {
        await using var command = delivery.CreateCommand($"""
            SELECT data::text FROM overlay_events
            WHERE broadcaster_user_id = @broadcaster AND type IN ('{OverlayTypes.RewardCreated}', '{OverlayTypes.RewardUpdated}') AND data->>'rewardId' = @reward
            ORDER BY seq DESC LIMIT 1
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<string>("reward", rewardId));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public void Dispose() => _replays.Dispose();

    private async Task<RateLimitLease> TakeReplayTurnAsync(CancellationToken cancellationToken)
    {
        var lease = await _replays.AcquireAsync(1, cancellationToken);
        return lease.IsAcquired ? lease : throw new InvalidOperationException("The replay queue is unbounded; a turn is always granted.");
    }

    private static async Task<HashSet<string>> ReadIdsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
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
