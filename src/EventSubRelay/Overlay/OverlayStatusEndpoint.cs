using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace EventSubRelay.Overlay;

/// <summary>
/// <c>GET /api/overlays/status</c>: the broadcaster's live overlay connections on every instance (see <see cref="OverlayStatusReport"/>).
/// </summary>
internal static class OverlayStatusEndpoint
{
    public static void MapOverlayStatus(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/overlays/status", GetStatusAsync);

    private static async Task<Ok<OverlayStatus>> GetStatusAsync(HttpContext context, OverlayStatusReport report, CancellationToken cancellationToken) =>
        TypedResults.Ok(await report.ForAsync(context.User.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)!.Value, cancellationToken));
}

/// <summary>
/// A broadcaster's live overlay connections on every instance, what each subscribed to, the last event sent to it
/// and the last alert it reported as shown: for the status API and the dashboard.
/// </summary>
internal sealed class OverlayStatusReport(OverlaySubscriptions connections, Events.OverlayEventStore events, NpgsqlDataSource dataSource, TimeProvider time)
{
    public async Task<OverlayStatus> ForAsync(string broadcaster, CancellationToken cancellationToken)
    {
        // This instance's connections as they are now; the others' as their instances last published them.
        var local = connections.All()
            .Where(c => c.BroadcasterUserId == broadcaster)
            .Select(c => new Connection(c.Id, c.TokenName, c.ConnectedAt, c.Snapshot(), c.LastAck is { } ack ? new AckStatus(ack.Id, ack.At) : null))
            .ToList();
        var remote = await PublishedAsync(dataSource, broadcaster, time.GetUtcNow() - OverlayConnectionDirectory.Expiry, cancellationToken);
        var all = local.Concat(remote.Where(r => !local.Exists(l => l.Id == r.Id))).OrderBy(c => c.ConnectedAt);

        var statuses = new List<OverlayConnectionStatus>();
        foreach (var connection in all)
        {
            var lastEvent = connection.Subscriptions.Count == 0 ? null : await events.LastSentAsync(broadcaster, connection.Subscriptions, cancellationToken);
            statuses.Add(new OverlayConnectionStatus(
                connection.Id,
                connection.TokenName,
                connection.ConnectedAt,
                [.. connection.Subscriptions.Select(s => s.Type).Order(StringComparer.Ordinal)],
                lastEvent is { } last ? new EventStatus(last.Id, last.Type, last.Seq, last.TimeStamp) : null,
                connection.LastAck));
        }

        return new OverlayStatus(broadcaster, statuses);
    }

    private static async Task<List<Connection>> PublishedAsync(NpgsqlDataSource dataSource, string broadcaster, DateTimeOffset freshSince, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT connection_id, token_name, connected_at, subscribed_types, subscribed_since_seq, last_ack_id, last_ack_at
            FROM overlay_connections WHERE broadcaster_user_id = @broadcaster AND seen_at >= @fresh
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcaster));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("fresh", freshSince.ToUniversalTime()));
        var rows = new List<Connection>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var types = reader.GetFieldValue<string[]>(3);
            var since = reader.GetFieldValue<long[]>(4);
            rows.Add(new Connection(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetFieldValue<DateTimeOffset>(2),
                [.. types.Zip(since)],
                reader.IsDBNull(5) ? null : new AckStatus(reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6))));
        }

        return rows;
    }

    private sealed record Connection(string Id, string TokenName, DateTimeOffset ConnectedAt, IReadOnlyList<(string Type, long UpTo)> Subscriptions, AckStatus? LastAck);
}

public sealed record OverlayStatus(string BroadcasterUserId, IReadOnlyList<OverlayConnectionStatus> Connections);

public sealed record OverlayConnectionStatus(
    string ConnectionId,
    string TokenName,
    DateTimeOffset ConnectedSince,
    IReadOnlyList<string> SubscribedTypes,
    EventStatus? LastEvent,
    AckStatus? LastAck);

public sealed record EventStatus(string Id, string Type, long Seq, DateTimeOffset TimeStamp);

public sealed record AckStatus(string Id, DateTimeOffset At);
