using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Npgsql;

namespace EventSubRelay.Overlay;

/// <summary>Sends a reconnecting client the stored events it missed.</summary>
internal sealed class OverlayReplay(NpgsqlDataSource dataSource)
{
    private const int MaxEvents = 1000;

    /// <summary>
    /// Sends events of the broadcaster above <paramref name="afterSeq"/>, each only up to the sequence
    /// number its subscription began at (later ones reached the client live).
    /// </summary>
    public async Task<int> SendMissedAsync(ISingleClientProxy client, string broadcasterUserId, long afterSeq, IReadOnlyList<(string Type, long UpTo)> subscriptions, CancellationToken cancellationToken)
    {
        if (subscriptions.Count == 0)
        {
            return 0;
        }

        // An event is missed if it is at or below the start of every subscription that covers it.
        await using var command = dataSource.CreateCommand("""
            SELECT e.seq, e.id, e.type, e.is_test, e.time_stamp, e.data::text
            FROM overlay_events e
            WHERE e.broadcaster_user_id = @broadcaster AND e.seq > @after
              AND e.seq <= (SELECT MIN(s.up_to) FROM unnest(@types, @up_to) AS s(type, up_to) WHERE s.type = '*' OR s.type = e.type)
            ORDER BY e.seq
            LIMIT @limit
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<long>("after", afterSeq));
        command.Parameters.Add(new NpgsqlParameter<string[]>("types", subscriptions.Select(s => s.Type).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("up_to", subscriptions.Select(s => s.UpTo).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", MaxEvents));

        var missed = new List<OverlayEnvelope>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                using var data = JsonDocument.Parse(reader.GetString(5));
                missed.Add(new OverlayEnvelope(
                    reader.GetString(1),
                    reader.GetInt64(0),
                    reader.GetFieldValue<DateTimeOffset>(4),
                    broadcasterUserId,
                    reader.GetBoolean(3),
                    OverlayEventKind.Twitch(reader.GetString(2)),
                    data.RootElement.Clone()));
            }
        }

        foreach (var envelope in missed)
        {
            await client.SendAsync(OverlayClientMethods.Event, envelope, cancellationToken);
        }

        return missed.Count;
    }
}
