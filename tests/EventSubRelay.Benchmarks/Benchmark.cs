using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using EventSubRelay.Data;
using Npgsql;

namespace EventSubRelay.Benchmarks;

/// <summary>
/// One benchmark run: (a) the bare Kestrel baseline, then (b) the relay (Release build, own process)
/// on a durable PostgreSQL of its own, both driven by the same load generator on loopback.
/// Everything it starts is stopped and deleted again, also when the run fails or is cancelled.
/// </summary>
internal sealed class Benchmark(BenchmarkOptions options, TextWriter output)
{
    private const string Secret = "benchmark-webhook-secret-0123456789";
    private const string Database = "eventsubrelay";
    internal const string RelayJit = "JIT (tiering thread)";
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(90);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var workDirectory = Path.Combine(Path.GetTempPath(), $"eventsubrelay-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(workDirectory);
        var databases = new List<LocalPostgres>();
        try
        {
            var binDirectory = LocalPostgres.FindBinDirectory()
                ?? throw new InvalidOperationException("The benchmark needs PostgreSQL binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin.");
            // One PostgreSQL per relay build, so that each one's CPU is its own.
            var builds = options.Compares ? 2 : 1;
            for (var i = 0; i < builds; i++)
            {
                var postgres = await LocalPostgres.StartAsync(binDirectory, Path.Combine(workDirectory, $"postgres{i}"), LocalPostgres.FreePort(), durable: true, cancellationToken);
                databases.Add(postgres);
                var serverSettings = i == 1 && options.ComparePostgres is { } compared ? new Dictionary<string, string>(compared) : [];
                if (options.Statements)
                {
                    serverSettings["shared_preload_libraries"] = "pg_stat_statements";
                }

                if (serverSettings.Count > 0)
                {
                    await using var connection = new NpgsqlConnection(postgres.ConnectionString("postgres"));
                    await connection.OpenAsync(cancellationToken);
                    foreach (var (name, value) in serverSettings)
                    {
                        // ALTER SYSTEM takes no parameters: the name is a plain identifier (see BenchmarkOptions), the value is quoted here.
                        await new NpgsqlCommand($"ALTER SYSTEM SET {name} = '{value.Replace("'", "''", StringComparison.Ordinal)}'", connection).ExecuteNonQueryAsync(cancellationToken);
                    }

                    await connection.CloseAsync();
                    await postgres.StopAsync(cancellationToken);
                    await postgres.StartAsync(cancellationToken);
                    // The pooled connection belonged to the server before the restart.
                    NpgsqlConnection.ClearAllPools();
                }
            }

            await RunRoundsAsync(workDirectory, binDirectory, databases, cancellationToken);
        }
        finally
        {
            foreach (var postgres in databases)
            {
                await postgres.StopAsync(CancellationToken.None);
            }

            Directory.Delete(workDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Starts every server, then measures (a) and the relay build(s) alternately, so that every round sees the same
    /// state of a shared host for all of them; the relays' durability checks run once they have stopped.
    /// </summary>
    private async Task RunRoundsAsync(string workDirectory, string binDirectory, List<LocalPostgres> databases, CancellationToken cancellationToken)
    {
        var bareAddress = LoopbackAddress();
        var dlls = options.Compares ? new[] { options.RelayDll ?? RelayDll(), options.CompareDll ?? options.RelayDll ?? RelayDll() } : [options.RelayDll ?? RelayDll()];
        var relays = new List<RelayUnderTest>();
        var rounds = new List<(LoadResult Bare, LoadResult[] Relays, MetricsSnapshot[] Stats)>();
        await using (var bare = ChildProcess.StartThisProgram("bare Kestrel", BareServer.Command, ServerEnvironment(bareAddress), Path.Combine(workDirectory, "bare.log")))
        {
            try
            {
                for (var i = 0; i < dlls.Length; i++)
                {
                    var relaySettings = new Dictionary<string, string>(options.RelaySettings, StringComparer.OrdinalIgnoreCase);
                    foreach (var (key, value) in i == 1 && options.CompareSettings is { } compare ? compare : new Dictionary<string, string>())
                    {
                        relaySettings[key] = value;
                    }

                    var build = i == 0 && options.RelayDll is null || i == 1 && options.CompareDll is null && options.RelayDll is null
                        ? "this build" : Path.GetFileName(Path.GetDirectoryName(dlls[i]));
                    var changed = i == 1 && options.ChangesSecond;
                    var name = dlls.Length == 1 ? "(b) relay /eventsub: durable 204" : $"({(char)('b' + i)}) relay: {build}{(changed ? " +settings" : "")}";
                    relays.Add(await RelayUnderTest.StartAsync(
                        name, dlls[i], databases[i], relaySettings, i == 1 ? options.CompareConnection : null, options.Statements, workDirectory, i, cancellationToken));
                }

                await bare.WaitUntilReadyAsync(new Uri(bareAddress, "/healthz"), StartupTimeout, cancellationToken);
                foreach (var relay in relays)
                {
                    await relay.Process.WaitUntilReadyAsync(new Uri(relay.Address, "/readyz"), StartupTimeout, cancellationToken);
                }

                var settings = (options.RelaySettings.Count == 0 ? "" : $" with {string.Join(", ", options.RelaySettings.Select(s => $"{s.Key}={s.Value}"))}") +
                               BenchmarkOptions.Describe("+settings", options.CompareSettings) +
                               (options.CompareConnection is null ? "" : $"; +connection: {options.CompareConnection}") +
                               BenchmarkOptions.Describe("+server", options.ComparePostgres);
                output.WriteLine($"(a) bare Kestrel on {bareAddress}; " + string.Join("; ", relays.Select(r => $"{r.Name}: {r.Dll} on {r.Address}, PostgreSQL on port {r.Postgres.Port}")) +
                                 $"{settings}; PostgreSQL from {binDirectory} (fsync on); {options.Rounds} round(s) of {options.WarmupSeconds} s warm-up and {options.Seconds} s measured each…");

                using var scrape = new HttpClient();
                var notifications = new FollowNotifications(Secret);
                for (var round = 1; round <= options.Rounds; round++)
                {
                    var bareLoad = await MeasureAsync("(a) bare Kestrel: read body, 204", bare, null, bareAddress, notifications, cancellationToken);
                    var results = new LoadResult[relays.Count];
                    var stats = new MetricsSnapshot[relays.Count];
                    // The relays take turns going first, so neither always follows the other's after-effects (its WAL flushes, its checkpoints).
                    foreach (var i in Enumerable.Range(0, relays.Count).Select(i => (i + round - 1) % relays.Count))
                    {
                        var metrics = new Uri(relays[i].Address, "/metrics");
                        var before = await MetricsSnapshot.ScrapeAsync(scrape, metrics, cancellationToken);
                        results[i] = await MeasureAsync(relays[i].Name, relays[i].Process, relays[i].Postgres, relays[i].Address, notifications, cancellationToken);
                        stats[i] = (await MetricsSnapshot.ScrapeAsync(scrape, metrics, cancellationToken)).Minus(before);
                    }

                    rounds.Add((bareLoad, results, stats));
                    PrintRound(round, bareLoad, results, stats);
                }
            }
            finally
            {
                foreach (var relay in relays)
                {
                    await relay.Process.DisposeAsync();
                }
            }
        }

        // The relays have drained and stopped: every acknowledged notification must be in the table, and delivered.
        var checks = new List<(long Stored, long Undelivered)>();
        foreach (var relay in relays)
        {
            checks.Add(await relay.CheckAsync(cancellationToken));
        }

        PrintSummary(relays, rounds, checks);
        if (options.Statements)
        {
            for (var i = 0; i < relays.Count; i++)
            {
                await PrintStatementsAsync(relays[i], checks[i].Stored, cancellationToken);
            }
        }
    }

    /// <summary>One measurement of one server: warm-up, then the measured window with its CPU accounting.</summary>
    private async Task<LoadResult> MeasureAsync(string target, ChildProcess server, LocalPostgres? postgres, Uri baseAddress, FollowNotifications notifications, CancellationToken cancellationToken)
    {
        var measuring = LoadGenerator.RunAsync(target, new Uri(baseAddress, "/eventsub"), notifications, options, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds), cancellationToken);
        var cpu = CpuSample.Take(server, postgres);
        var load = await measuring;
        return load with { Cpu = CpuSample.Take(server, postgres).Minus(cpu) };
    }

    private void PrintRound(int round, LoadResult bare, LoadResult[] relays, MetricsSnapshot[] stats)
    {
        output.WriteLine();
        output.WriteLine($"Round {round} of {options.Rounds}: {Environment.ProcessorCount} cores, concurrency {options.Concurrency}, " +
                         $"{options.Seconds} s measured after {options.WarmupSeconds} s warm-up, channel.follow bodies of {FollowNotifications.TypicalBodyBytes} bytes, " +
                         $"load average {LoadAverage()}");
        output.WriteLine($"{"",-36} {"req/s",10} {"p50 ms",8} {"p99 ms",8} {"errors",8}");
        LoadResult[] all = [bare, .. relays];
        foreach (var result in all)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Target,-36} {result.RequestsPerSecond,10:N0} {result.P50Milliseconds,8:0.00} {result.P99Milliseconds,8:0.00} {result.ErrorCount,8:N0}"));
        }

        foreach (var relay in relays)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{relay.Target + " / (a)",-36} {relay.RequestsPerSecond / bare.RequestsPerSecond,10:0.00}"));
        }

        foreach (var result in all)
        {
            if (result.ErrorCount > 0)
            {
                output.WriteLine($"{result.Target} errors: {string.Join(", ", result.Errors.Select(e => $"{e.Key} × {e.Value}"))}");
            }
        }

        for (var i = 0; i < relays.Length; i++)
        {
            var commits = stats[i];
            output.WriteLine(commits.Commits > 0
                ? string.Create(CultureInfo.InvariantCulture,
                    $"{relays[i].Target} in the measured window: {commits.Commits:N0} commits, average batch {commits.Notifications / commits.Commits:0.0} notifications; " +
                    $"{commits.EventsSent / options.Seconds:N0} overlay events sent/s; {commits.AllocatedBytes / Math.Max(1, relays[i].Acknowledged) / 1024:N1} KiB allocated per acknowledged notification")
                : $"{relays[i].Target} commits in the measured window: none reported by /metrics");
        }

        output.WriteLine("CPU per acknowledged notification in the measured window (less sensitive than req/s to other load on the machine):");
        foreach (var result in all)
        {
            var perRequest = (TimeSpan cpu) => result.Acknowledged == 0 ? double.NaN : cpu.TotalMicroseconds / result.Acknowledged;
            var database = result.Cpu.Postgres is { } postgres ? string.Create(CultureInfo.InvariantCulture, $", PostgreSQL {perRequest(postgres),5:0} µs") : "";
            var total = result.Cpu.Server + (result.Cpu.Postgres ?? TimeSpan.Zero);
            var sum = result.Cpu.Postgres is null ? "" : string.Create(CultureInfo.InvariantCulture, $", together {perRequest(total),5:0} µs");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {result.Target,-34} server {perRequest(result.Cpu.Server),5:0} µs{database}{sum}, load generator {perRequest(result.Cpu.LoadGenerator),5:0} µs"));
            if (result.Cpu.Breakdown.Any(b => b.Value > TimeSpan.Zero))
            {
                output.WriteLine("    of which " + string.Join(", ", result.Cpu.Breakdown
                    .Where(b => b.Value > TimeSpan.Zero)
                    .OrderByDescending(b => b.Value)
                    .Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Key} {perRequest(b.Value):0.0}"))) + " µs");
            }
        }
    }

    private void PrintSummary(List<RelayUnderTest> relays, List<(LoadResult Bare, LoadResult[] Relays, MetricsSnapshot[] Stats)> rounds, List<(long Stored, long Undelivered)> checks)
    {
        output.WriteLine();
        output.WriteLine($"Summary of {rounds.Count} round(s), concurrency {options.Concurrency} (min – max, then every round in order):");
        Line("(a) bare req/s", rounds.Select(r => r.Bare.RequestsPerSecond), "N0");
        Line("bare Kestrel CPU µs per request", rounds.Select(r => PerNotification(r.Bare, r.Bare.Cpu.Server)), "0");
        for (var i = 0; i < relays.Count; i++)
        {
            var relay = i;
            output.WriteLine(relays[i].Name + ":");
            Line("relay req/s", rounds.Select(r => r.Relays[relay].RequestsPerSecond), "N0");
            Line("relay / bare", rounds.Select(r => r.Relays[relay].RequestsPerSecond / r.Bare.RequestsPerSecond), "0.00");
            Line("relay p99 ms", rounds.Select(r => r.Relays[relay].P99Milliseconds), "0.0");
            Line("relay KiB allocated per notification", rounds.Select(r => r.Stats[relay].AllocatedBytes / Math.Max(1, r.Relays[relay].Acknowledged) / 1024), "0.0");
            Line("relay + PostgreSQL CPU µs per notification", rounds.Select(r => PerNotification(r.Relays[relay], r.Relays[relay].Cpu.Server + (r.Relays[relay].Cpu.Postgres ?? TimeSpan.Zero))), "0");
            Line("  without the JIT's tiering thread", rounds.Select(r => PerNotification(r.Relays[relay], r.Relays[relay].Cpu.Server + (r.Relays[relay].Cpu.Postgres ?? TimeSpan.Zero) - Jit(r.Relays[relay]))), "0");
            Line("relay CPU µs per notification", rounds.Select(r => PerNotification(r.Relays[relay], r.Relays[relay].Cpu.Server)), "0");
            Line("  without the JIT's tiering thread", rounds.Select(r => PerNotification(r.Relays[relay], r.Relays[relay].Cpu.Server - Jit(r.Relays[relay]))), "0");
            Line("PostgreSQL CPU µs per notification", rounds.Select(r => PerNotification(r.Relays[relay], r.Relays[relay].Cpu.Postgres ?? TimeSpan.Zero)), "0");

            var acknowledged = rounds.Sum(r => r.Relays[relay].AcknowledgedInWholeRun);
            var (stored, undelivered) = checks[i];
            var verdict = stored >= acknowledged ? "" : "  <-- FEWER ROWS THAN ACKNOWLEDGEMENTS";
            var delivery = undelivered == 0 ? "all delivered" : $"{undelivered:N0} NOT DELIVERED";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  durability check: {acknowledged:N0} notifications acknowledged with 204 (all rounds, warm-ups included), {stored:N0} rows stored{verdict}, {delivery}"));
        }

        var errors = rounds.Sum(r => r.Bare.ErrorCount + r.Relays.Sum(x => x.ErrorCount));
        output.WriteLine($"errors in measured windows: {errors:N0}");

        void Line(string name, IEnumerable<double> values, string format)
        {
            var list = values.ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-44} {list.Min().ToString(format, CultureInfo.InvariantCulture)} – {list.Max().ToString(format, CultureInfo.InvariantCulture)}   ({string.Join(", ", list.Select(v => v.ToString(format, CultureInfo.InvariantCulture)))})"));
        }
    }

    /// <summary>The statements that took PostgreSQL's time over the whole run (warm-ups included), per stored notification.</summary>
    private async Task PrintStatementsAsync(RelayUnderTest relay, long stored, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(relay.ConnectionString);
        await using var command = dataSource.CreateCommand("""
            SELECT calls, total_exec_time, rows, wal_bytes, wal_fpi, shared_blks_hit + shared_blks_read + shared_blks_dirtied,
                   left(regexp_replace(query, '\s+', ' ', 'g'), 110)
            FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY total_exec_time DESC LIMIT 12
            """);
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{relay.Name}: statements by execution time, per stored notification ({stored:N0}), whole run:"));
        output.WriteLine($"  {"calls",9} {"µs/notif",9} {"ms/call",8} {"rows/call",9} {"WAL B/notif",11} {"FPI/1k",7}  statement");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var calls = reader.GetInt64(0);
            var totalMilliseconds = reader.GetDouble(1);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {calls,9:N0} {totalMilliseconds * 1000 / Math.Max(1, stored),9:0.0} {totalMilliseconds / Math.Max(1, calls),8:0.000} {(double)reader.GetInt64(2) / Math.Max(1, calls),9:0.0} " +
                $"{(double)reader.GetDecimal(3) / Math.Max(1, stored),11:0} {reader.GetInt64(4) * 1000.0 / Math.Max(1, stored),7:0.0}  {reader.GetString(6)}"));
        }
    }

    /// <summary>One relay build under test: its process, its own PostgreSQL and where it listens.</summary>
    private sealed record RelayUnderTest(string Name, string Dll, ChildProcess Process, LocalPostgres Postgres, Uri Address, string ConnectionString)
    {
        public static async Task<RelayUnderTest> StartAsync(
            string name, string dll, LocalPostgres postgres, IReadOnlyDictionary<string, string> settings, string? connectionOptions, bool statements,
            string workDirectory, int index, CancellationToken cancellationToken)
        {
            await postgres.CreateDatabaseAsync(Database, cancellationToken);
            var connectionString = postgres.ConnectionString(Database);
            if (statements)
            {
                await using var dataSource = NpgsqlDataSource.Create(connectionString);
                await using var create = dataSource.CreateCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            var address = LoopbackAddress();
            var environment = new Dictionary<string, string>(ServerEnvironment(address))
            {
                ["ConnectionStrings__Postgres"] = connectionOptions is null ? connectionString : $"{connectionString};{connectionOptions}",
                ["EventSub__Secret"] = Secret,
                ["Database__MigrateOnStartup"] = "true",
            };
            foreach (var (key, value) in settings)
            {
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }

            var process = ChildProcess.Start("relay", dll, [], environment, Path.Combine(workDirectory, $"relay{index}.log"));
            return new RelayUnderTest(name, dll, process, postgres, address, connectionString);
        }

        /// <summary>Rows stored, and of them those not delivered: above their owner's watermark, or not marked delivered in builds before watermarks.</summary>
        public async Task<(long Stored, long Undelivered)> CheckAsync(CancellationToken cancellationToken)
        {
            await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
            await using var count = dataSource.CreateCommand("SELECT count(*) FROM notifications");
            var stored = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            await using var watermarks = dataSource.CreateCommand("SELECT to_regclass('delivery_watermarks') IS NOT NULL");
            await using var undelivered = dataSource.CreateCommand((bool)(await watermarks.ExecuteScalarAsync(cancellationToken))!
                ? "SELECT count(*) FROM notifications n LEFT JOIN delivery_watermarks w ON w.instance_key = n.ingested_by WHERE n.seq > COALESCE(w.delivered_through, 0)"
                : "SELECT count(*) FROM notifications WHERE delivered_at IS NULL");
            return (stored, (long)(await undelivered.ExecuteScalarAsync(cancellationToken))!);
        }
    }

    // Tiering recompiles hot methods during the first minutes of a process; on a busy host it runs into the measured window.
    private static TimeSpan Jit(LoadResult result) => result.Cpu.Breakdown.GetValueOrDefault(RelayJit);

    private static double PerNotification(LoadResult result, TimeSpan cpu) => result.Acknowledged == 0 ? double.NaN : cpu.TotalMicroseconds / result.Acknowledged;

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    internal static Dictionary<string, string> ServerEnvironment(Uri baseAddress) => new()
    {
        ["ASPNETCORE_URLS"] = baseAddress.ToString(),
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["DOTNET_ENVIRONMENT"] = "Production",
    };

    internal static Uri LoopbackAddress() => new($"http://127.0.0.1:{LocalPostgres.FreePort()}/");

    /// <summary>The relay as built next to this benchmark (same configuration, so Release under <c>dotnet run -c Release</c>).</summary>
    internal static string RelayDll()
    {
        var configuration = Assembly.GetEntryAssembly()!.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var framework = Path.GetFileName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var dll = Path.Combine(Repository.Root, "src", "EventSubRelay", "bin", configuration, framework, "EventSubRelay.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The relay is not built at {dll}.", dll);
    }

}

/// <summary>
/// CPU time used so far by the server under test, its PostgreSQL (all server processes) and this load generator;
/// <see cref="Breakdown"/> splits it by the threads of the server that have names of their own (the JIT's tiering
/// thread, the background GC) and by PostgreSQL's kinds of process (client backends, WAL writer, autovacuum…).
/// </summary>
internal sealed record CpuSample(TimeSpan Server, TimeSpan? Postgres, TimeSpan LoadGenerator, IReadOnlyDictionary<string, TimeSpan> Breakdown)
{
    public static CpuSample Empty { get; } = new(TimeSpan.Zero, null, TimeSpan.Zero, new Dictionary<string, TimeSpan>());

    public static CpuSample Take(ChildProcess server, LocalPostgres? postgres)
    {
        var breakdown = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (thread, ticks) in ServerThreads(server.Id))
        {
            breakdown[thread] = breakdown.GetValueOrDefault(thread) + Ticks(ticks);
        }

        TimeSpan? database = null;
        if (postgres is not null)
        {
            database = TimeSpan.Zero;
            foreach (var (kind, ticks) in PostgresProcesses(postgres))
            {
                breakdown[kind] = breakdown.GetValueOrDefault(kind) + Ticks(ticks);
                database += Ticks(ticks);
            }
        }

        return new(server.CpuTime, database, Process.GetCurrentProcess().TotalProcessorTime, breakdown);
    }

    public CpuSample Minus(CpuSample earlier) => new(
        Server - earlier.Server,
        Postgres - earlier.Postgres,
        LoadGenerator - earlier.LoadGenerator,
        Breakdown.ToDictionary(b => b.Key, b => b.Value - earlier.Breakdown.GetValueOrDefault(b.Key), StringComparer.Ordinal));

    // Linux reports these in clock ticks of 1/100 s (USER_HZ).
    private static TimeSpan Ticks(long ticks) => TimeSpan.FromMilliseconds(ticks * 10);

    /// <summary>The server's threads with names of their own; thread-pool and other threads together as "other threads".</summary>
    private static IEnumerable<(string Name, long Ticks)> ServerThreads(int pid)
    {
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.EnumerateDirectories($"/proc/{pid}/task").ToList();
        }
        catch (IOException)
        {
            yield break;
        }

        foreach (var task in tasks)
        {
            if (ReadStat(task) is not { } stat)
            {
                continue;
            }

            var name = stat.Comm switch
            {
                ".NET Tiered Com" => Benchmark.RelayJit,
                ".NET BGC" or ".NET Server GC" or ".NET GC" => "background GC",
                _ => null,
            };
            // Only named threads: the rest of the server's time is its total minus these.
            if (name is not null)
            {
                yield return (name, stat.Ticks);
            }
        }
    }

    /// <summary>The postmaster and its children (backends, WAL writer, checkpointer…), from /proc, by kind.</summary>
    private static IEnumerable<(string Kind, long Ticks)> PostgresProcesses(LocalPostgres postgres)
    {
        var postmaster = File.ReadLines(Path.Combine(postgres.DataDirectory, "postmaster.pid")).First().Trim();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(directory);
            if (!pid.All(char.IsAsciiDigit) || ReadStat(directory) is not { } stat || (pid != postmaster && stat.Parent != postmaster))
            {
                continue;
            }

            string title;
            try
            {
                title = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ').Trim();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            // Backends are titled "postgres: user database host(port) state"; helpers "postgres: walwriter" and so on.
            var kind = pid == postmaster ? "PostgreSQL postmaster"
                : title.StartsWith("postgres: postgres ", StringComparison.Ordinal) ? "PostgreSQL backends"
                : title.Contains("walwriter", StringComparison.Ordinal) ? "PostgreSQL WAL writer"
                : title.Contains("autovacuum", StringComparison.Ordinal) ? "PostgreSQL autovacuum"
                : "PostgreSQL other";
            yield return (kind, stat.Ticks);
        }
    }

    private static (string Comm, string Parent, long Ticks)? ReadStat(string directory)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(directory, "stat"));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null; // The process or thread ended meanwhile.
        }

        // "pid (comm) state ppid … utime (14th field) stime (15th)".
        var open = stat.IndexOf('(');
        var close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        return (stat[(open + 1)..close], fields[1], long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
    }
}

/// <summary>The relay's commit batch histogram and sent-events counter, from its Prometheus endpoint.</summary>
internal sealed record MetricsSnapshot(double Notifications, double Commits, double EventsSent, double AllocatedBytes)
{
    public static async Task<MetricsSnapshot> ScrapeAsync(HttpClient client, Uri url, CancellationToken cancellationToken)
    {
        var lines = (await client.GetStringAsync(url, cancellationToken)).Split('\n');
        return new MetricsSnapshot(
            Sum(lines, "eventsubrelay_commit_batch_size_sum"),
            Sum(lines, "eventsubrelay_commit_batch_size_count"),
            Sum(lines, "eventsubrelay_events_sent_total"),
            // The runtime's own counter of bytes allocated on the managed heap (GC.GetTotalAllocatedBytes).
            Sum(lines, "dotnet_gc_heap_total_allocated_bytes_total") + Sum(lines, "process_runtime_dotnet_gc_allocations_size_bytes_total"));
    }

    public MetricsSnapshot Minus(MetricsSnapshot earlier) =>
        new(Notifications - earlier.Notifications, Commits - earlier.Commits, EventsSent - earlier.EventsSent, AllocatedBytes - earlier.AllocatedBytes);

    // Sample lines are "name{labels} value [timestamp]".
    private static double Sum(IEnumerable<string> lines, string name) => lines
        .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is '{' or ' ')
        .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
}

/// <summary>
/// One of the relay's millisecond histograms (<c>eventsubrelay.commit.duration</c>, <c>eventsubrelay.delivery.duration</c>)
/// from its Prometheus endpoint: cumulative bucket counts by upper bound, and the sum.
/// </summary>
internal sealed record StageHistogram(string Name, IReadOnlyList<(double UpperBound, double Count)> Buckets, double Sum)
{
    public static async Task<StageHistogram> ScrapeAsync(HttpClient client, Uri url, string name, CancellationToken cancellationToken)
    {
        var lines = (await client.GetStringAsync(url, cancellationToken)).Split('\n');
        var buckets = lines
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Contains("_bucket{", StringComparison.Ordinal))
            .Select(line =>
            {
                var le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
                le = le[..le.IndexOf('"', StringComparison.Ordinal)];
                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                return (bound, Value(line));
            })
            .OrderBy(b => b.bound)
            .ToList();
        var sum = lines.Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Contains("_sum", StringComparison.Ordinal)).Sum(Value);
        return new StageHistogram(name, buckets, sum);
    }

    public StageHistogram Minus(StageHistogram earlier) =>
        this with { Buckets = [.. Buckets.Select(b => (b.UpperBound, b.Count - earlier.Buckets.FirstOrDefault(e => e.UpperBound == b.UpperBound).Count))], Sum = Sum - earlier.Sum };

    public double Count => Buckets.Count == 0 ? 0 : Buckets[^1].Count;

    /// <summary>The upper bound of the bucket in which the quantile falls (an over-estimate by at most one bucket).</summary>
    public double Quantile(double q) => Buckets.FirstOrDefault(b => b.Count >= q * Count).UpperBound;

    public override string ToString() => Count == 0
        ? $"{Name}: nothing recorded"
        : string.Create(CultureInfo.InvariantCulture, $"{Name}: {Count:N0} batches, mean {Sum / Count:0.00} ms, p50 ≤ {Quantile(0.50)} ms, p99 ≤ {Quantile(0.99)} ms");

    // Sample lines are "name{labels} value [timestamp]".
    private static double Value(string line) => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}
