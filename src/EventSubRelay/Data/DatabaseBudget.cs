using Npgsql;

namespace EventSubRelay.Data;

/// <summary>
/// How many PostgreSQL connections this instance may hold at once, split into pools so that no kind of
/// traffic can take the connections another one needs: the durable ingest commit (what Twitch's
/// acknowledgement waits for) and the delivery path (overlay events, delivery marks, the mapper's state)
/// have connections of their own; the dashboard, the hub's replays, the overlay token look-ups and the
/// background jobs share the rest.
/// </summary>
/// <remarks>
/// <c>Database:MaxConnections</c> wins when it is set; otherwise the connection string's <c>Maximum Pool Size</c>
/// is taken as the budget of the whole instance (not of one pool); otherwise it is <see cref="DefaultMaxConnections"/>.
/// </remarks>
internal sealed class DatabaseBudget
{
    public const int DefaultMaxConnections = 20;

    /// <summary>The smallest budget that leaves every pool at least what it needs to make progress.</summary>
    public const int MinimumMaxConnections = 5;

    public const string IngestKey = "ingest";
    public const string DeliveryKey = "delivery";
    public const string DefaultApplicationName = "EventSubRelay";

    public DatabaseBudget(string connectionString, int? maxConnections)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var configuredPoolSize = settings.Keys.Cast<string>().Any(k => string.Equals(k, "Maximum Pool Size", StringComparison.OrdinalIgnoreCase))
            ? settings.MaxPoolSize
            : (int?)null;
        Total = maxConnections ?? configuredPoolSize ?? DefaultMaxConnections;
        if (Total < MinimumMaxConnections)
        {
            throw new StartupConfigurationException(
                $"The database budget is {Total} connections (Database:MaxConnections, or Maximum Pool Size in the connection string); the relay needs at least {MinimumMaxConnections}.");
        }

        // One group commit runs at a time; a second connection covers the overlap of one batch ending and the next starting.
        Ingest = Math.Max(1, Total / 10);
        Delivery = Math.Max(2, Total / 5);
        Shared = Total - Ingest - Delivery;

        // Replays are the one kind of shared traffic a reconnect storm multiplies: they may take at most half
        // the shared pool, so that token look-ups, the dashboard and background jobs keep the other half.
        Replays = Math.Max(1, Shared / 2);
        ApplicationName = string.IsNullOrEmpty(settings.ApplicationName) ? DefaultApplicationName : settings.ApplicationName;
        _connectionString = DatabaseExtensions.WithRelayDefaults(connectionString);
    }

    private readonly string _connectionString;

    /// <summary>All pools together never open more connections than this.</summary>
    public int Total { get; }

    public int Ingest { get; }

    public int Delivery { get; }

    public int Shared { get; }

    /// <summary>How many replays of missed events read the database at once; the others wait their turn.</summary>
    public int Replays { get; }

    /// <summary>The prefix of the pools' application names in <c>pg_stat_activity</c> (<c>name/ingest</c>, <c>name/delivery</c>, <c>name/shared</c>).</summary>
    public string ApplicationName { get; }

    /// <summary>The durable pool of the ingest commit.</summary>
    public NpgsqlDataSource BuildIngest() => Build(IngestKey, Ingest, asyncCommit: false);

    /// <summary>
    /// The delivery pool. What it writes is derived from committed notifications and written again by the
    /// outbox if a crash loses it, so it commits without waiting for the disk flush.
    /// </summary>
    public NpgsqlDataSource BuildDelivery() => Build(DeliveryKey, Delivery, asyncCommit: true);

    public NpgsqlDataSource BuildShared() => Build("shared", Shared, asyncCommit: false);

    private NpgsqlDataSource Build(string pool, int size, bool asyncCommit)
    {
        var builder = new NpgsqlDataSourceBuilder(_connectionString);
        builder.ConnectionStringBuilder.MaxPoolSize = size;
        builder.ConnectionStringBuilder.MinPoolSize = Math.Min(builder.ConnectionStringBuilder.MinPoolSize, size);
        builder.ConnectionStringBuilder.ApplicationName = $"{ApplicationName}/{pool}";
        if (asyncCommit)
        {
            builder.ConnectionStringBuilder.Options = "-c synchronous_commit=off";
        }

        return builder.Build();
    }
}

/// <summary>
/// At start-up, reads the server's <c>max_connections</c> and warns when this instance's budget alone cannot
/// fit in what the server leaves to ordinary users: every instance would then see
/// <c>53300: sorry, too many clients already</c> under load.
/// </summary>
internal sealed class DatabaseBudgetCheck(DatabaseBudget budget, NpgsqlDataSource dataSource, ILogger<DatabaseBudgetCheck> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation(
            "Database budget: {Total} connections ({Ingest} ingest, {Delivery} delivery, {Shared} shared of which {Replays} for replays), application name {ApplicationName}",
            budget.Total, budget.Ingest, budget.Delivery, budget.Shared, budget.Replays, budget.ApplicationName);
        try
        {
            await using var command = dataSource.CreateCommand("""
                SELECT current_setting('max_connections')::int,
                       current_setting('superuser_reserved_connections')::int,
                       COALESCE(current_setting('reserved_connections', true)::int, 0)
                """);
            await using var reader = await command.ExecuteReaderAsync(stoppingToken);
            await reader.ReadAsync(stoppingToken);
            var (max, superuserReserved, reserved) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2));
            var available = max - superuserReserved - reserved;
            if (budget.Total > available)
            {
                logger.LogWarning(
                    "The database budget of {Budget} connections (Database:MaxConnections) does not fit in the server's max_connections = {MaxConnections} " +
                    "less {Reserved} reserved connections ({Available} left): lower Database:MaxConnections or raise max_connections; with N instances, N × budget must fit",
                    budget.Total, max, superuserReserved + reserved, available);
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning(exception, "Could not read the server's max_connections to check the database budget against it");
        }
    }
}
