using EventSubRelay.Data;
using Npgsql;
using NpgsqlTypes;

namespace EventSubRelay.Overlay;

/// <summary>
/// Publishes this instance's overlay connections (subscriptions, last acknowledged alert) to PostgreSQL
/// every two seconds, so that the status endpoint of any instance can report every connection
/// of a broadcaster. Rows of instances that stopped publishing expire.
/// </summary>
internal sealed class OverlayConnectionDirectory(
    OverlaySubscriptions connections,
    NpgsqlDataSource dataSource,
    InstanceLease lease,
    TimeProvider time,
    ILogger<OverlayConnectionDirectory> logger) : Operations.PeriodicJob(TimeSpan.FromSeconds(2), time, logger)
{
    /// <summary>Rows not refreshed for this long belong to an instance that is gone.</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(30);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => PublishAsync(cancellationToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var command = dataSource.CreateCommand("DELETE FROM overlay_connections WHERE instance_key = @me");
            command.Parameters.Add(new NpgsqlParameter<long>("me", lease.Key));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is NpgsqlException or OperationCanceledException or ObjectDisposedException)
        {
            // Best effort at shutdown (the database may be gone already): the rows expire by themselves.
        }
    }

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow().ToUniversalTime();
        var live = connections.All().Select(c => (Connection: c, Subscriptions: c.Snapshot())).ToList();

        await using var batch = dataSource.CreateBatch();
        var upsert = new NpgsqlBatchCommand("""
            INSERT INTO overlay_connections (connection_id, instance_key, broadcaster_user_id, token_id, token_name, connected_at,
                                             subscribed_types, subscribed_since_seq, last_ack_id, last_ack_at, seen_at)
            SELECT c.connection_id, @me, c.broadcaster_user_id, c.token_id, c.token_name, c.connected_at,
                   string_to_array(c.types, '|'), string_to_array(c.since, '|')::bigint[], c.ack_id, c.ack_at, @now
            FROM unnest(@connection_id, @broadcaster_user_id, @token_id, @token_name, @connected_at, @types, @since, @ack_id, @ack_at)
                 AS c(connection_id, broadcaster_user_id, token_id, token_name, connected_at, types, since, ack_id, ack_at)
            ON CONFLICT (connection_id) DO UPDATE SET
                subscribed_types = excluded.subscribed_types, subscribed_since_seq = excluded.subscribed_since_seq,
                last_ack_id = excluded.last_ack_id, last_ack_at = excluded.last_ack_at, seen_at = excluded.seen_at
            """);
        upsert.Parameters.Add(new NpgsqlParameter<long>("me", lease.Key));
        upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("connection_id", [.. live.Select(r => r.Connection.Id)]));
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("broadcaster_user_id", [.. live.Select(r => r.Connection.BroadcasterUserId)]));
        upsert.Parameters.Add(new NpgsqlParameter<Guid[]>("token_id", [.. live.Select(r => r.Connection.TokenId)]));
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("token_name", [.. live.Select(r => r.Connection.TokenName)]));
        upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("connected_at", [.. live.Select(r => r.Connection.ConnectedAt.ToUniversalTime())]));
        // Arrays of arrays cannot be passed; each connection's list travels as one '|'-joined string ('|' is not allowed in type names).
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("types", [.. live.Select(r => string.Join('|', r.Subscriptions.Select(s => s.Type)))]));
        upsert.Parameters.Add(new NpgsqlParameter<string[]>("since", [.. live.Select(r => string.Join('|', r.Subscriptions.Select(s => s.UpTo)))]));
        upsert.Parameters.Add(new NpgsqlParameter("ack_id", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = live.Select(r => (object?)r.Connection.LastAck?.Id ?? DBNull.Value).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter("ack_at", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = live.Select(r => (object?)r.Connection.LastAck?.At.ToUniversalTime() ?? DBNull.Value).ToArray() });
        batch.BatchCommands.Add(upsert);

        var gone = new NpgsqlBatchCommand("DELETE FROM overlay_connections WHERE (instance_key = @me AND NOT connection_id = ANY(@live)) OR seen_at < @expired");
        gone.Parameters.Add(new NpgsqlParameter<long>("me", lease.Key));
        gone.Parameters.Add(new NpgsqlParameter<string[]>("live", [.. live.Select(r => r.Connection.Id)]));
        gone.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("expired", now - Expiry));
        batch.BatchCommands.Add(gone);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
