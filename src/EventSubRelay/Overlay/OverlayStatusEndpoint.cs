using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace EventSubRelay.Overlay;

/// <summary>
/// <c>GET /api/overlays/status</c>: the broadcaster's live overlay connections, what each subscribed to,
/// the last event sent to it and the last alert it reported as shown.
/// </summary>
internal static class OverlayStatusEndpoint
{
    public static void MapOverlayStatus(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/overlays/status", GetStatusAsync)
            .RequireAuthorization(policy => policy.AddAuthenticationSchemes(OverlayTokenAuthentication.SchemeName).RequireAuthenticatedUser());

    private static async Task<Ok<OverlayStatus>> GetStatusAsync(HttpContext context, OverlayConnections connections, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var broadcaster = context.User.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)!.Value;
        var statuses = new List<OverlayConnectionStatus>();
        foreach (var connection in connections.ForBroadcaster(broadcaster))
        {
            if (connection.Items[typeof(ConnectionSubscriptions)] is not ConnectionSubscriptions state)
            {
                continue;
            }

            var subscriptions = state.Snapshot();
            var lastEvent = subscriptions.Count == 0 ? null : await LastEventSentAsync(dataSource, broadcaster, subscriptions, cancellationToken);
            statuses.Add(new OverlayConnectionStatus(
                connection.ConnectionId,
                state.TokenName,
                state.ConnectedAt,
                [.. subscriptions.Select(s => s.Type).Order(StringComparer.Ordinal)],
                lastEvent,
                state.LastAck is { } ack ? new AckStatus(ack.Id, ack.At) : null));
        }

        return TypedResults.Ok(new OverlayStatus(broadcaster, statuses));
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
