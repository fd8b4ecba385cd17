namespace EventSubRelay.Overlay;

/// <summary>
/// Ends live connections whose token has been revoked or deleted (an unlinked channel), and forgets such tokens
/// in the <see cref="OverlayTokenCache"/>. Tokens are checked against the database every few seconds, so a
/// revocation made through any instance (or the command line) takes effect everywhere. The first run loads
/// the cache.
/// </summary>
internal sealed class RevokedTokenWatcher(
    OverlaySubscriptions connections,
    OverlayTokenCache cache,
    Npgsql.NpgsqlDataSource dataSource,
    TimeProvider time,
    ILogger<RevokedTokenWatcher> logger) : Operations.PeriodicJob(TimeSpan.FromSeconds(2), time, logger)
{
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!cache.Loaded)
        {
            await cache.LoadAsync(cancellationToken);
        }

        var known = connections.TokenIds().Union(cache.Ids()).ToArray();
        if (known.Length == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand("SELECT id FROM overlay_tokens WHERE id = ANY(@ids) AND revoked_at IS NULL");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<Guid[]>("ids", known));
        var revoked = new HashSet<Guid>(known);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                revoked.Remove(reader.GetGuid(0));
            }
        }

        if (revoked.Count > 0)
        {
            cache.Forget(revoked);
            var aborted = connections.Abort(revoked);
            if (aborted > 0)
            {
                logger.LogInformation("Disconnected {Count} overlay connections whose token was revoked", aborted);
            }
        }
    }
}
