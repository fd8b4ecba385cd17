namespace EventSubRelay.Data;

/// <summary>
/// Development only: with no connection string, the relay starts a PostgreSQL of its own from the installed
/// binaries (<see cref="LocalPostgres"/>). Nothing here runs outside the Development environment.
/// </summary>
internal static class DevelopmentDatabase
{
    public const string DatabaseName = "eventsubrelay";

    /// <summary>Starts (or reuses) the local server and its database; runs once, while the host is being built.</summary>
    public static LocalPostgres Start(IConfiguration configuration)
    {
        var section = configuration.GetSection("LocalPostgres");
        var binDirectory = LocalPostgres.FindBinDirectory(section["SearchRoot"] is { Length: > 0 } root ? root : LocalPostgres.DebianRoot) ?? throw new StartupConfigurationException(
            "No PostgreSQL is configured and no PostgreSQL binaries were found (initdb on PATH or under /usr/lib/postgresql/*/bin). " +
            "Either run `docker compose up`, or set ConnectionStrings:Postgres (environment variable ConnectionStrings__Postgres) to a PostgreSQL server.");

        var dataDirectory = section["DataDirectory"] is { Length: > 0 } directory ? directory : LocalPostgres.DefaultDataDirectory();
        var port = section.GetValue("Port", 54329);

        // There is nothing to serve without the database.
        return Task.Run(async () =>
        {
            var server = await LocalPostgres.StartAsync(binDirectory, dataDirectory, port, durable: true);
            await server.CreateDatabaseAsync(DatabaseName);
            return server;
        }).GetAwaiter().GetResult();
    }
}

/// <summary>Tells where the local development database is, and stops it on shutdown if this process started it.</summary>
internal sealed class LocalPostgresLifetime(DatabaseConnection connection, ILogger<LocalPostgresLifetime> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (connection.Local is { } server)
        {
            logger.LogInformation(
                "Using the local development PostgreSQL in {DataDirectory} (binaries in {BinDirectory}); connect with: psql -h 127.0.0.1 -p {Port} -U postgres eventsubrelay",
                server.DataDirectory, server.BinDirectory, server.Port);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (connection.Local is { StartedHere: true } server)
        {
            await server.StopAsync(cancellationToken);
        }
    }
}
