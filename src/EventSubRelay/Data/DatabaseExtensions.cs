using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EventSubRelay.Data;

internal sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Apply pending migrations when the relay starts (default in Development and in compose).</summary>
    public bool MigrateOnStartup { get; set; }

    /// <summary>
    /// How many connections this instance opens at most, all pools together (see <see cref="DatabaseBudget"/>);
    /// unset: the connection string's <c>Maximum Pool Size</c>, or 20.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(DatabaseBudget.MinimumMaxConnections, 10_000)]
    public int? MaxConnections { get; set; }
}

internal static class DatabaseExtensions
{
    public const string ConnectionStringName = "Postgres";

    /// <summary>
    /// Registers the instance's database pools, carved from one budget (<see cref="DatabaseBudget"/>): the shared
    /// <see cref="NpgsqlDataSource"/> (with the DbContext on top of it), and the ingest and delivery pools, keyed.
    /// </summary>
    public static void AddDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<DatabaseConnection>();
        builder.Services.AddSingleton(services => new DatabaseBudget(
            services.GetRequiredService<DatabaseConnection>().ConnectionString,
            services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value.MaxConnections));
        builder.Services.AddSingleton(services => services.GetRequiredService<DatabaseBudget>().BuildShared());
        builder.Services.AddKeyedSingleton(DatabaseBudget.IngestKey, (services, _) => services.GetRequiredService<DatabaseBudget>().BuildIngest());
        builder.Services.AddKeyedSingleton(DatabaseBudget.DeliveryKey, (services, _) => services.GetRequiredService<DatabaseBudget>().BuildDelivery());
        builder.Services.AddHostedService<DatabaseBudgetCheck>();
        builder.Services.AddDbContextPool<RelayDbContext>((services, options) => options.UseNpgsql(services.GetRequiredService<NpgsqlDataSource>()));
        if (builder.Environment.IsDevelopment())
        {
            builder.Services.AddHostedService<LocalPostgresLifetime>();
        }
    }

    /// <summary>
    /// Pool settings for the ingest hot path, unless the connection string sets them: the relay keeps no session
    /// state, so a pooled connection needs no <c>DISCARD ALL</c> before its next command, and the few statements
    /// it repeats thousands of times a second are prepared once per connection instead of parsed and planned each time.
    /// </summary>
    internal static string WithRelayDefaults(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var configured = new HashSet<string>(settings.Keys.Cast<string>(), StringComparer.OrdinalIgnoreCase);
        if (!configured.Contains("No Reset On Close"))
        {
            settings.NoResetOnClose = true;
        }

        // Npgsql tries GSS encryption first by default, which logs a missing libgssapi_krb5 on every start in the
        // container; the relay never uses Kerberos unless the connection string asks for it.
        if (!configured.Contains("Gss Encryption Mode"))
        {
            settings.GssEncryptionMode = GssEncryptionMode.Disable;
        }

        if (!configured.Contains("Max Auto Prepare"))
        {
            settings.MaxAutoPrepare = 32;
        }

        return settings.ConnectionString;
    }

    /// <summary>Applies migrations when configured to. A failing migration stops the host.</summary>
    public static async Task MigrateIfConfiguredAsync(this IServiceProvider services)
    {
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value;
        if (options.MigrateOnStartup)
        {
            await MigrateAsync(services, CancellationToken.None);
        }
    }

    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RelayDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
    }
}

/// <summary>
/// The PostgreSQL connection string: <c>ConnectionStrings:Postgres</c>, or in Development when that is
/// not set, a local server started from the installed PostgreSQL binaries.
/// </summary>
internal sealed class DatabaseConnection
{
    public DatabaseConnection(IConfiguration configuration, IHostEnvironment environment)
    {
        var configured = configuration.GetConnectionString(DatabaseExtensions.ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            ConnectionString = configured;
            return;
        }

        if (!environment.IsDevelopment())
        {
            throw new StartupConfigurationException(
                "ConnectionStrings:Postgres is not set. Set it (environment variable ConnectionStrings__Postgres) to your PostgreSQL server, or run `docker compose up`.");
        }

        Local = DevelopmentDatabase.Start(configuration);
        ConnectionString = Local.ConnectionString(DevelopmentDatabase.DatabaseName);
    }

    public string ConnectionString { get; }

    /// <summary>The local development server, when one is used.</summary>
    public LocalPostgres? Local { get; }
}

/// <summary>A setting the relay cannot start without is missing or wrong; the message says how to fix it.</summary>
internal sealed class StartupConfigurationException(string message) : Exception(message);
