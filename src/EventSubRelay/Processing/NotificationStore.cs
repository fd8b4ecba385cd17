using EventSubRelay.Data;
using EventSubRelay.Events;
using Npgsql;
using NpgsqlTypes;

namespace EventSubRelay.Processing;

/// <summary>The statements on <c>notifications</c>: each is one statement over a whole batch.</summary>
/// <remarks>
/// Only the notification insert waits for the disk flush: it is what Twitch's acknowledgement promises.
/// Delivery marks (and the overlay events, see <see cref="OverlayEventStore"/>) are derived from committed
/// notifications and are written again by the outbox if a crash loses them, so they are committed without waiting (the delivery pool, see
/// <see cref="DatabaseBudget.BuildDelivery"/>). Each side has connections of its own, so neither waits for
/// the other or for the dashboard, the hub or the background jobs.
/// </remarks>
internal sealed class NotificationStore(
    [FromKeyedServices(DatabaseBudget.IngestKey)] NpgsqlDataSource ingest,
    [FromKeyedServices(DatabaseBudget.DeliveryKey)] NpgsqlDataSource delivery,
    InstanceLease lease)
{
    /// <summary>Inserts the batch, skipping message ids already stored; returns the new ones with their sequence numbers.</summary>
    /// <exception cref="CommitOutcomeUnknownException">The statement was sent but its answer was lost: it may have been committed.</exception>
    /// <remarks>
    /// Sequence numbers follow the batch's order (arrival), but rows are inserted in message id order: two
    /// instances committing batches that share message ids (a Twitch retry racing the original) then lock
    /// them in the same order, so one waits for the other instead of both deadlocking into a 503.
    /// <c>notifications_seq_seq</c> is the sequence behind the identity column <c>seq</c>.
    /// </remarks>
    public async Task<IReadOnlyList<(string MessageId, long Seq)>> InsertNewAsync(IReadOnlyList<IncomingNotification> batch, CancellationToken cancellationToken)
    {
        const string sql = """
            INSERT INTO notifications (seq, message_id, subscription_id, subscription_type, subscription_version, broadcaster_user_id,
                                       message_timestamp, received_at, retry_count, payload, ingested_by)
            OVERRIDING SYSTEM VALUE
            SELECT n.*, @ingested_by
            FROM (SELECT nextval('notifications_seq_seq'), u.*
                  FROM unnest(@message_id, @subscription_id, @subscription_type, @subscription_version, @broadcaster_user_id,
                              @message_timestamp, @received_at, @retry_count, @payload)
                       AS u(message_id, subscription_id, subscription_type, subscription_version, broadcaster_user_id,
                            message_timestamp, received_at, retry_count, payload)) AS n
            ORDER BY n.message_id
            ON CONFLICT (message_id) DO NOTHING
            RETURNING message_id, seq
            """;

        await using var connection = await ingest.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        command.AddArray( "message_id", batch, n => n.MessageId);
        command.AddArray( "subscription_id", batch, n => n.SubscriptionId);
        command.AddArray( "subscription_type", batch, n => n.SubscriptionType);
        command.AddArray( "subscription_version", batch, n => n.SubscriptionVersion);
        command.AddArray( "broadcaster_user_id", batch, n => n.BroadcasterUserId);
        command.AddArray( "message_timestamp", batch, n => n.MessageTimestamp.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        command.AddArray( "received_at", batch, n => n.ReceivedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        command.AddArray( "retry_count", batch, n => n.RetryCount, NpgsqlDbType.Integer);
        command.AddArray( "payload", batch, n => n.PayloadJson);
        command.Parameters.Add(new NpgsqlParameter<long>("ingested_by", lease.Key));

        var inserted = new List<(string, long)>(batch.Count);
        var backend = connection.ProcessID;
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                inserted.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }
        catch (Exception exception) when (exception is not PostgresException)
        {
            // PostgreSQL answered nothing (or not all): the connection broke or timed out while it ran or after it committed.
            throw new CommitOutcomeUnknownException(backend, exception);
        }

        return inserted;
    }

    /// <summary>
    /// After a <see cref="CommitOutcomeUnknownException"/>: waits for the server process that ran the insert to end
    /// (ending it if it still runs), so that its transaction is either committed or gone, then returns what it stored:
    /// this instance's rows among <paramref name="messageIds"/> numbered after <paramref name="afterSeq"/>, the highest
    /// sequence number this instance had before (rows it stored earlier under the same ids are not the lost insert's).
    /// </summary>
    public async Task<IReadOnlyList<(string MessageId, long Seq)>> StoredByLostInsertAsync(
        int backend, IReadOnlyList<string> messageIds, long afterSeq, CancellationToken cancellationToken)
    {
        await using var connection = await ingest.OpenConnectionAsync(cancellationToken);
        await using (var end = new NpgsqlCommand(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE pid = @backend AND datname = current_database()", connection))
        {
            end.Parameters.Add(new NpgsqlParameter<int>("backend", backend));
            await end.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand("""
            SELECT message_id, seq FROM notifications
            WHERE message_id = ANY(@ids) AND ingested_by = @me AND seq > @after
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. messageIds]));
        command.Parameters.Add(new NpgsqlParameter<long>("me", lease.Key));
        command.Parameters.Add(new NpgsqlParameter<long>("after", afterSeq));
        var stored = new List<(string, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            stored.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return stored;
    }

    /// <summary>Sets a notification aside, with the reason; once its batch is done, the delivery watermark passes over it like a delivered one.</summary>
    public async Task DeadLetterAsync(string messageId, string error, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = delivery.CreateCommand("""
            UPDATE notifications SET dead_lettered_at = @at, delivery_error = left(@error, @max)
            WHERE message_id = @id
            """);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("at", at.ToUniversalTime()));
        command.Parameters.Add(new NpgsqlParameter<string>("error", error));
        command.Parameters.Add(new NpgsqlParameter<int>("max", StoredNotification.MaxDeliveryErrorLength));
        command.Parameters.Add(new NpgsqlParameter<string>("id", messageId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Raises the delivery watermarks of these owners (never lowers one: two instances may deliver for the same
    /// stopped owner for a moment, and each only ever claims a prefix it has delivered). Rows are locked in owner
    /// order, like the outbox's takeover, so the two never deadlock.
    /// </summary>
    public async Task AdvanceWatermarksAsync(IReadOnlyList<(long Owner, long DeliveredThrough)> watermarks, CancellationToken cancellationToken)
    {
        await using var command = delivery.CreateCommand("""
            INSERT INTO delivery_watermarks AS w (instance_key, delivered_through)
            SELECT * FROM unnest(@owner, @through) ORDER BY 1
            ON CONFLICT (instance_key) DO UPDATE SET delivered_through = GREATEST(w.delivered_through, excluded.delivered_through)
            """);
        command.AddArray("owner", watermarks, w => w.Owner, NpgsqlDbType.Bigint);
        command.AddArray("through", watermarks, w => w.DeliveredThrough, NpgsqlDbType.Bigint);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Takes over the outbox of instances that are no longer alive (their advisory lock is free) and that no live
    /// instance has taken over already: returns every such owner this instance now delivers for, with its delivery
    /// watermark, when it has notifications above it. The owners' locks are held while they change hands, so two
    /// instances never take over the same owner at once.
    /// </summary>
    /// <remarks>
    /// The owners come from <c>ix_notifications_owner</c> one distinct value at a time (a recursive skip scan), so the
    /// cost grows with the number of instances that committed within the retention period, not with the table.
    /// Owner 0 holds rows from before ownership existed; no instance ever holds its lock.
    /// </remarks>
    public async Task<IReadOnlyList<(long Owner, long DeliveredThrough)>> AdoptOrphanedOwnersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await delivery.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            WITH RECURSIVE owners(owner) AS (
                (SELECT ingested_by FROM notifications ORDER BY ingested_by LIMIT 1)
                UNION ALL
                SELECT (SELECT n.ingested_by FROM notifications n WHERE n.ingested_by > o.owner ORDER BY n.ingested_by LIMIT 1)
                FROM owners o WHERE o.owner IS NOT NULL),
            behind AS MATERIALIZED (
                SELECT o.owner, COALESCE(w.delivered_through, 0) AS delivered_through, w.adopted_by
                FROM owners o LEFT JOIN delivery_watermarks w ON w.instance_key = o.owner
                WHERE o.owner IS NOT NULL AND o.owner <> @me
                  AND EXISTS (SELECT 1 FROM notifications n WHERE n.ingested_by = o.owner AND n.seq > COALESCE(w.delivered_through, 0))),
            orphaned AS (
                SELECT owner, delivered_through FROM behind
                WHERE pg_try_advisory_xact_lock(owner)
                  AND (adopted_by IS NULL OR adopted_by = @me OR pg_try_advisory_xact_lock(adopted_by)))
            INSERT INTO delivery_watermarks AS w (instance_key, delivered_through, adopted_by)
            SELECT owner, delivered_through, @me FROM orphaned ORDER BY owner
            ON CONFLICT (instance_key) DO UPDATE SET adopted_by = excluded.adopted_by
            RETURNING w.instance_key, w.delivered_through
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long>("me", lease.Key));
        var owners = new List<(long, long)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                owners.Add((reader.GetInt64(0), reader.GetInt64(1)));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return owners;
    }

    /// <summary>The owner's notifications after <paramref name="afterSeq"/>, in sequence order, at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<CommittedNotification>> ReadOwnedAfterAsync(long owner, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var command = delivery.CreateCommand("""
            SELECT message_id, seq, subscription_type, subscription_version, broadcaster_user_id, message_timestamp, payload
            FROM notifications WHERE ingested_by = @owner AND seq > @after
            ORDER BY seq LIMIT @limit
            """);
        command.Parameters.Add(new NpgsqlParameter<long>("owner", owner));
        command.Parameters.Add(new NpgsqlParameter<long>("after", afterSeq));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var rows = new List<CommittedNotification>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new CommittedNotification(
                reader.GetString(0),
                reader.GetInt64(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetString(6)));
        }

        return rows;
    }
}

/// <summary>A batch insert was sent but its answer never came: it may or may not have been committed.</summary>
internal sealed class CommitOutcomeUnknownException(int backend, Exception inner)
    : Exception("The connection failed before PostgreSQL answered the insert; it may have been committed.", inner)
{
    /// <summary>The PostgreSQL server process that ran the insert.</summary>
    public int Backend { get; } = backend;
}
