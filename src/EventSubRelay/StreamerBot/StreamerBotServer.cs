using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using EventSubRelay.Overlay;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSubRelay.StreamerBot;

/// <summary>Accepts Streamer.bot-protocol sockets and holds what their sessions share.</summary>
internal sealed class StreamerBotServer(
    IOptions<StreamerBotOptions> options,
    StreamerBotSessions sessions,
    StreamerBotAuthentication authentication,
    StreamerBotCursors cursors,
    Events.OverlayEventStore events,
    IOptions<OverlayOptions> overlayOptions,
    InvalidTokenLimiter invalidTokens,
    NpgsqlDataSource dataSource,
    IHostApplicationLifetime lifetime,
    TimeProvider time)
{
    /// <summary>Subscriptions made this long after authenticating are caught up (the client makes them at once).</summary>
    public const int CatchUpSeconds = 10;

    /// <summary>The query parameter that turns the catch-up off: <c>?catchUp=false</c>.</summary>
    public const string CatchUpParameter = "catchUp";

    public StreamerBotOptions Options => options.Value;
    public StreamerBotSessions Sessions => sessions;
    public StreamerBotAuthentication Authentication => authentication;
    public StreamerBotCursors Cursors => cursors;
    public Events.OverlayEventStore Events => events;
    public Events.ReplayLimits ReplayLimits => overlayOptions.Value.ToReplayLimits();
    public InvalidTokenLimiter InvalidTokens => invalidTokens;
    public TimeProvider Time => time;

    public StreamerBotInfo Info { get; } = new(
        InstanceIdOf(dataSource), RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "windows" : "linux", Environment.OSVersion.Version.ToString());

    public async Task HandleAsync(HttpContext context)
    {
        // An address the invalid-token limiter holds is still upgraded: the token comes only after the upgrade (the
        // challenge's answer), and a valid one gets in, as on the hub; only its invalid tokens are refused.
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(title: "WebSocket required", detail: "This is a Streamer.bot-protocol WebSocket endpoint; connect with ws:// or wss://.",
                statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(context);
            return;
        }

        var catchUp = !string.Equals(context.Request.Query[CatchUpParameter], "false", StringComparison.OrdinalIgnoreCase);
        var keepAlive = TimeSpan.FromSeconds(Options.KeepAliveSeconds);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = keepAlive, KeepAliveTimeout = keepAlive });
        using var session = new StreamerBotSession(socket, this, catchUp, lifetime.ApplicationStopping);
        await session.RunAsync(address);
    }

    /// <summary>The linked account's login, display name and broadcaster type, or null when the broadcaster never linked one.</summary>
    public async Task<(string Login, string DisplayName, string Type)?> BroadcasterAsync(string broadcasterUserId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT login, display_name, broadcaster_type FROM linked_accounts WHERE broadcaster_user_id = @broadcaster");
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    private static string InstanceIdOf(NpgsqlDataSource dataSource)
    {
        var database = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{database.Host}:{database.Port}/{database.Database}"));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }
}

/// <summary>Closes the Streamer.bot sockets of revoked tokens (1008) within seconds, as the hub does for its connections.</summary>
internal sealed class StreamerBotRevocationWatcher(
    StreamerBotSessions sessions,
    NpgsqlDataSource dataSource,
    TimeProvider time,
    ILogger<StreamerBotRevocationWatcher> logger) : Operations.PeriodicJob(TimeSpan.FromSeconds(2), time, logger)
{
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var live = sessions.All.Where(s => s.Identity is not null).ToList();
        if (live.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand("SELECT id FROM overlay_tokens WHERE id = ANY(@ids) AND revoked_at IS NULL");
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", [.. live.Select(s => s.Identity!.TokenId).Distinct()]));
        var active = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                active.Add(reader.GetGuid(0));
            }
        }

        var revoked = live.Where(s => !active.Contains(s.Identity!.TokenId)).ToList();
        foreach (var session in revoked)
        {
            session.Close(WebSocketCloseStatus.PolicyViolation, "The overlay token was revoked");
        }

        if (revoked.Count > 0)
        {
            logger.LogInformation("Closed {Count} Streamer.bot sockets whose token was revoked", revoked.Count);
        }
    }
}
