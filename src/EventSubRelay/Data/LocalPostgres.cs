using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace EventSubRelay.Data;

/// <summary>
/// A PostgreSQL server run from the binaries installed on this machine, for development and tests
/// where no server is configured. It listens on loopback only and trusts local connections.
/// </summary>
/// <remarks>
/// initdb refuses to run as root, so when this process is root the binaries run as the
/// <c>postgres</c> user through <c>runuser</c> and the data directory is handed to that user.
/// </remarks>
public sealed class LocalPostgres
{
    private const string ServiceUser = "postgres";

    private LocalPostgres(string binDirectory, string dataDirectory, int port)
    {
        BinDirectory = binDirectory;
        DataDirectory = dataDirectory;
        Port = port;
    }

    public string BinDirectory { get; }
    public string DataDirectory { get; }
    public int Port { get; }

    /// <summary>Whether this instance started the server (and so should stop it).</summary>
    public bool StartedHere { get; private set; }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = ServiceUser,
        Database = database,
    }.ConnectionString;

    public const string DebianRoot = "/usr/lib/postgresql";

    /// <summary>The directory holding <c>initdb</c> and <c>pg_ctl</c>: on PATH, else the newest under <paramref name="debianRoot"/>.</summary>
    public static string? FindBinDirectory(string debianRoot = DebianRoot)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")))
            {
                return directory;
            }
        }

        if (!Directory.Exists(debianRoot))
        {
            return null;
        }

        return Directory.GetDirectories(debianRoot)
            .Select(d => (Directory: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(d => File.Exists(Path.Combine(d.Directory, "initdb")))
            .OrderByDescending(d => d.Version)
            .Select(d => d.Directory)
            .FirstOrDefault();
    }

    /// <summary>The default data directory: under the user's data folder, or /var/lib for root (whose home the postgres user cannot enter).</summary>
    public static string DefaultDataDirectory() => Environment.IsPrivilegedProcess
        ? "/var/lib/eventsubrelay/postgres"
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "EventSubRelay", "postgres");

    /// <summary>Initialises the data directory if needed and starts the server unless it is already running there.</summary>
    public static async Task<LocalPostgres> StartAsync(string binDirectory, string dataDirectory, int port, bool durable, CancellationToken cancellationToken = default)
    {
        var server = new LocalPostgres(binDirectory, Path.GetFullPath(dataDirectory), port);
        await server.InitialiseAsync(durable, cancellationToken);
        if (await server.IsRunningAsync(cancellationToken))
        {
            return server;
        }

        await server.StartAsync(cancellationToken);
        return server;
    }

    /// <summary>A free TCP port on loopback, for servers started by tests.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var log = Path.Combine(DataDirectory, "server.log");
        await RunAsync("pg_ctl", ["-D", DataDirectory, "-l", log, "-w", "-t", "60", "-o", $"-p {Port}", "start"], cancellationToken);
        StartedHere = true;
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await RunAsync("pg_ctl", ["-D", DataDirectory, "-w", "-t", "60", "-m", "fast", "stop"], cancellationToken);
        StartedHere = false;
    }

    /// <summary>Creates the database if it does not exist yet.</summary>
    public async Task CreateDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }

        // Identifiers cannot be parameters; quote it as PostgreSQL does.
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<bool> IsRunningAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            return false;
        }

        var (exitCode, _) = await TryRunAsync("pg_ctl", ["-D", DataDirectory, "status"], cancellationToken);
        return exitCode == 0;
    }

    private async Task InitialiseAsync(bool durable, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            return;
        }

        Directory.CreateDirectory(DataDirectory);
        if (Environment.IsPrivilegedProcess)
        {
            await RunProcessAsync("chown", [$"{ServiceUser}:{ServiceUser}", DataDirectory], cancellationToken);
        }

        await RunAsync("initdb", ["-D", DataDirectory, "-U", ServiceUser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], cancellationToken);

        var settings = new List<string>
        {
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
        };
        if (!durable)
        {
            // Throw-away test servers: the relay's own durability does not depend on the disk flush.
            settings.Add("fsync = off");
            settings.Add("full_page_writes = off");
        }

        var configuration = Path.Combine(DataDirectory, "postgresql.conf");
        await File.AppendAllLinesAsync(configuration, settings, cancellationToken);
    }

    private async Task RunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var (exitCode, output) = await TryRunAsync(tool, arguments, cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed with exit code {exitCode}: {output.Trim()}");
        }
    }

    private Task<(int ExitCode, string Output)> TryRunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var executable = Path.Combine(BinDirectory, tool);
        return Environment.IsPrivilegedProcess
            ? RunProcessAsync("runuser", ["-u", ServiceUser, "--", executable, .. arguments], cancellationToken, check: false)
            : RunProcessAsync(executable, arguments, cancellationToken, check: false);
    }

    private static async Task<(int ExitCode, string Output)> RunProcessAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken, bool check = true)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        // pg_ctl leaves the server holding inherited pipes; read until the tool itself exits, not to end of stream.
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = await FinishedOrEmpty(stdout) + await FinishedOrEmpty(stderr);
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} failed with exit code {process.ExitCode}: {output.Trim()}");
        }

        return (process.ExitCode, output);
    }

    private static async Task<string> FinishedOrEmpty(Task<string> read)
    {
        var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(1)));
        return finished == read ? await read : "";
    }
}
