using EventSubRelay.Data;
using Npgsql;
using Testcontainers.PostgreSql;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>
/// A real PostgreSQL server for tests: a Testcontainers container where Docker is available, otherwise
/// a server started from the PostgreSQL binaries on this machine. Never an in-memory substitute.
/// </summary>
public abstract class PostgresServer : IAsyncDisposable
{
    /// <summary>The one server most tests share; each test class gets its own database on it.</summary>
    public static Task<PostgresServer> Shared => SharedServer.Value;

    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(() => StartNewAsync());

    public abstract string ConnectionString(string database);

    /// <summary>Stops the server, as a crashed or unreachable database would be.</summary>
    public abstract Task StopAsync();

    /// <summary>Starts it again on the same port with the same data.</summary>
    public abstract Task StartAsync();

    public abstract ValueTask DisposeAsync();

    /// <summary>Starts a server of its own, for tests that stop and start it.</summary>
    public static async Task<PostgresServer> StartNewAsync()
    {
        var mode = Environment.GetEnvironmentVariable("EVENTSUBRELAY_TEST_POSTGRES");
        var useDocker = mode switch
        {
            "testcontainers" => true,
            "local" => false,
            _ => Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } || File.Exists("/var/run/docker.sock"),
        };

        return useDocker ? await ContainerServer.StartContainerAsync() : await LocalServer.StartLocalAsync();
    }

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"t_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    private sealed class LocalServer(LocalPostgres server) : PostgresServer
    {
        public static async Task<PostgresServer> StartLocalAsync()
        {
            var binDirectory = LocalPostgres.FindBinDirectory()
                ?? throw new InvalidOperationException("Tests need PostgreSQL: install its binaries (initdb, pg_ctl) or a Docker engine for Testcontainers.");
            var root = Path.Combine(Path.GetTempPath(), "eventsubrelay-tests");
            RemoveAbandoned(root);
            var dataDirectory = Path.Combine(root, Guid.NewGuid().ToString("N"));
            var server = await LocalPostgres.StartAsync(binDirectory, dataDirectory, LocalPostgres.FreePort(), durable: false);
            var local = new LocalServer(server);
            // The test process may end without disposing shared fixtures; never leave a server behind.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => local.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return local;
        }

        public override string ConnectionString(string database) => server.ConnectionString(database);

        public override Task StopAsync() => server.StopAsync();

        public override Task StartAsync() => server.StartAsync();

        public override async ValueTask DisposeAsync()
        {
            if (server.StartedHere)
            {
                await server.StopAsync();
            }

            try
            {
                Directory.Delete(server.DataDirectory, recursive: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The next test run removes it (see RemoveAbandoned).
            }
        }

        /// <summary>
        /// Deletes data directories of earlier runs that ended without cleaning up (a killed test host):
        /// those with no server running in them that are older than any run still starting up.
        /// </summary>
        private static void RemoveAbandoned(string root)
        {
            if (!Directory.Exists(root))
            {
                return;
            }

            foreach (var directory in new DirectoryInfo(root).GetDirectories())
            {
                if (!File.Exists(Path.Combine(directory.FullName, "postmaster.pid")) && directory.CreationTimeUtc < DateTime.UtcNow.AddMinutes(-10))
                {
                    try
                    {
                        directory.Delete(recursive: true);
                    }
                    catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                    {
                        // Another run may be cleaning it up at the same time.
                    }
                }
            }
        }
    }

    private sealed class ContainerServer(PostgreSqlContainer container, int port) : PostgresServer
    {
        public static async Task<PostgresServer> StartContainerAsync()
        {
            // A fixed host port, so the connection string survives a stop and start.
            var port = LocalPostgres.FreePort();
            var container = new PostgreSqlBuilder("postgres:15-alpine")
                .WithPortBinding(port, 5432)
                .Build();
            await container.StartAsync();
            return new ContainerServer(container, port);
        }

        public override string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = PostgreSqlBuilder.DefaultUsername,
            Password = PostgreSqlBuilder.DefaultPassword,
            Database = database,
        }.ConnectionString;

        public override Task StopAsync() => container.StopAsync();

        public override Task StartAsync() => container.StartAsync();

        public override ValueTask DisposeAsync() => container.DisposeAsync();
    }
}
