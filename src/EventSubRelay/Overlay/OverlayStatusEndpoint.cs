using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace EventSubRelay.Overlay;

/// <summary>
/// <c>GET /api/overlays/status</c>: the broadcaster's live overlay connections on every instance (see <see cref="OverlayStatusReport"/>).
/// </summary>
internal static class OverlayStatusEndpoint
{
    public static void MapOverlayStatus(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/overlays/status", GetStatusAsync)
            .RequireAuthorization(policy => policy.AddAuthenticationSchemes(OverlayTokenAuthentication.SchemeName).RequireAuthenticatedUser())
            .RequireCors(OverlayCors.PolicyName);

    private static async Task<Ok<OverlayStatus>> GetStatusAsync(HttpContext context, OverlayStatusReport report, CancellationToken cancellationToken) =>
        TypedResults.Ok(await report.ForAsync(context.User.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)!.Value, cancellationToken));
}

/// <summary>
/// A broadcaster's live overlay connections on every instance, what each subscribed to, the last event sent to it
/// and the last alert it reported as shown: for the status API and the dashboard.
/// </summary>
internal sealed class OverlayStatusReport(OverlayConnections connections, NpgsqlDataSource dataSource, TimeProvider time)
{
    public async Task<OverlayStatus> ForAsync(string broadcaster, CancellationToken cancellationToken)
    {
        // This instance's connections as they are now; the others' as their instances last published them.
        var local = connections.All()
            .Where(c => c.User!.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)!.Value == broadcaster)
            .Select(c => (Id: c.ConnectionId, State: c.Items[typeof(ConnectionSubscriptions)] as ConnectionSubscriptions))
            .Where(c => c.State is not null)
            .Select(c => new Connection(c.Id, c.State!.TokenName, c.State.ConnectedAt, c.State.Snapshot(), c.State.LastAck is { } ack ? new AckStatus(ack.Id, ack.At) : null))
            .ToList();
        var remote = await PublishedAsync(dataSource, broadcaster, time.GetUtcNow() - OverlayConnectionDirectory.Expiry, cancellationToken);
        var all = local.Concat(remote.Where(r => !local.Exists(l => l.Id == r.Id))).OrderBy(c => c.ConnectedAt);

        var statuses = new List<OverlayConnectionStatus>();
        foreach (var connection in all)
        {
            var lastEvent = connection.Subscriptions.Count == 0 ? null : await LastEventSentAsync(dataSource, broadcaster, connection.Subscriptions, cancellationToken);
            statuses.Add(new OverlayConnectionStatus(
                connection.Id,
                connection.TokenName,
                connection.ConnectedAt,
                [.. connection.Subscriptions.Select(s => s.Type).Order(StringComparer.Ordinal)],
                lastEvent,
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

    /// <summary>The newest stored event that reached the connection live: after its subscription began, of a type it subscribed to.</summary>
    private static async Task<EventStatus?> LastEventSentAsync(NpgsqlDataSource dataSource, string broadcaster, IReadOnlyList<(string Type, long UpTo)> subscriptions, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT e.id, e.type, e.seq, e.time_stamp FROM overlay_events e
            WHERE e.broadcaster_user_id = @broadcaster
              AND EXISTS (SELECT 1 FROM unnest(@types, @since) AS s(type, since) WHERE (s.type = '*' OR s.type = e.type) AND e.seq > s.since)
            ORDER BY e.seq DESC LIMIT 1
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcaster));
        command.Parameters.Add(new NpgsqlParameter<string[]>("types", subscriptions.Select(s => s.Type).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("since", subscriptions.Select(s => s.UpTo).ToArray()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new EventStatus(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3))
            : null;
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
