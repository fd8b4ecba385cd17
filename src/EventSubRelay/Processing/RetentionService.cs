using System.ComponentModel.DataAnnotations;
using EventSubRelay.Operations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSubRelay.Processing;

internal sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Stored notifications and overlay events older than this are deleted.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 7;

    /// <summary>How often the retention job runs.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Deletes stored notifications and overlay events past the retention period.</summary>
internal sealed class RetentionService(NpgsqlDataSource dataSource, IOptions<StorageOptions> options, TimeProvider time, ILogger<RetentionService> logger)
    : PeriodicJob(options.Value.RetentionInterval, time, logger)
{
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => DeleteExpiredAsync(cancellationToken);

    /// <summary>Deletes what is older than the retention period; undelivered notifications are kept.</summary>
    public async Task<(int Notifications, int Events)> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        var cutoff = Time.GetUtcNow().AddDays(-options.Value.RetentionDays).ToUniversalTime();
        await using var batch = dataSource.CreateBatch();
        // Delivered: at or below the delivery watermark of the instance that committed it.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            DELETE FROM notifications n WHERE n.received_at < $1
              AND n.seq <= COALESCE((SELECT w.delivered_through FROM delivery_watermarks w WHERE w.instance_key = n.ingested_by), 0)
            """) { Parameters = { new() { Value = cutoff } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM overlay_events WHERE time_stamp < $1") { Parameters = { new() { Value = cutoff } } });
        // The watermark of an instance none of whose notifications are left says nothing any more (its next ones, if it
        // is still running, are above it anyway, and it writes its row again).
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            DELETE FROM delivery_watermarks w WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.ingested_by = w.instance_key)
            """));
        // Derivation state that can no longer matter: who spoke in streams that have ended, bombs long claimed.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            DELETE FROM stream_chatters c USING channel_state s
            WHERE c.broadcaster_user_id = s.broadcaster_user_id AND c.stream_id <> COALESCE(s.stream_id, '')
            """));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM gift_bombs WHERE created_at < $1") { Parameters = { new() { Value = cutoff } } });
        await batch.ExecuteNonQueryAsync(cancellationToken);
        var notifications = batch.BatchCommands[0].RecordsAffected;
        var events = batch.BatchCommands[1].RecordsAffected;
        if (notifications + events > 0)
        {
            logger.LogInformation("Retention deleted {Notifications} notifications and {Events} overlay events older than {Cutoff}", notifications, events, cutoff);
        }

        return (notifications, events);
    }
}
