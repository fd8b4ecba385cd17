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

        await using var command = ingest.CreateCommand(sql);
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
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            inserted.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return inserted;
    }

    /// <summary>Sets a notification aside: delivered (the outbox skips it) and dead-lettered, with the reason.</summary>
    public async Task DeadLetterAsync(string messageId, string error, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = delivery.CreateCommand("""
            UPDATE notifications SET delivered_at = @at, dead_lettered_at = @at, delivery_error = left(@error, @max)
            WHERE message_id = @id
            """);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("at", at.ToUniversalTime()));
        command.Parameters.Add(new NpgsqlParameter<string>("error", error));
        command.Parameters.Add(new NpgsqlParameter<int>("max", StoredNotification.MaxDeliveryErrorLength));
        command.Parameters.Add(new NpgsqlParameter<string>("id", messageId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task MarkDeliveredAsync(IReadOnlyList<string> messageIds, DateTimeOffset deliveredAt, CancellationToken cancellationToken)
    {
        await using var command = delivery.CreateCommand("UPDATE notifications SET delivered_at = @at WHERE message_id = ANY(@ids)");
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("at", deliveredAt.ToUniversalTime()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", messageIds.ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Takes over undelivered notifications of instances that are no longer alive (their advisory lock is
    /// free), oldest first, and returns them for delivery by this instance. The owners' locks are held
    /// while the rows change hands, so two instances never adopt the same rows.
    /// </summary>
    public async Task<IReadOnlyList<CommittedNotification>> AdoptOrphansAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await delivery.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            WITH dead AS (
                SELECT owner FROM (SELECT DISTINCT ingested_by AS owner FROM notifications
                                   WHERE delivered_at IS NULL AND ingested_by <> @me) owners
                WHERE pg_try_advisory_xact_lock(owner)),
            orphans AS (
                SELECT message_id FROM notifications
                WHERE delivered_at IS NULL AND ingested_by IN (SELECT owner FROM dead)
                ORDER BY seq LIMIT @limit)
            UPDATE notifications n SET ingested_by = @me FROM orphans o WHERE n.message_id = o.message_id
            RETURNING n.message_id, n.seq, n.subscription_type, n.subscription_version, n.broadcaster_user_id, n.message_timestamp, n.payload
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long>("me", lease.Key));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var rows = new List<CommittedNotification>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
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
        }

        await transaction.CommitAsync(cancellationToken);
        rows.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        return rows;
    }
}
