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
        try
        {
            var binDirectory = LocalPostgres.FindBinDirectory()
                ?? throw new InvalidOperationException("The benchmark needs PostgreSQL binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin.");
            var postgres = await LocalPostgres.StartAsync(binDirectory, Path.Combine(workDirectory, "postgres"), LocalPostgres.FreePort(), durable: true, cancellationToken);
            try
            {
                await RunRoundsAsync(workDirectory, binDirectory, postgres, cancellationToken);
            }
            finally
            {
                await postgres.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Starts both servers, then measures (a) and (b) alternately, so that every pair of rounds sees the same
    /// state of a shared host; the relay's durability check runs once it has stopped.
    /// </summary>
    private async Task RunRoundsAsync(string workDirectory, string binDirectory, LocalPostgres postgres, CancellationToken cancellationToken)
    {
        await postgres.CreateDatabaseAsync(Database, cancellationToken);
        var connectionString = postgres.ConnectionString(Database);
        var bareAddress = LoopbackAddress();
        var relayAddress = LoopbackAddress();
        var environment = new Dictionary<string, string>(ServerEnvironment(relayAddress))
        {
            ["ConnectionStrings__Postgres"] = connectionString,
            ["EventSub__Secret"] = Secret,
            ["Database__MigrateOnStartup"] = "true",
        };
        foreach (var (key, value) in options.RelaySettings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var rounds = new List<(LoadResult Bare, LoadResult Relay, MetricsSnapshot Stats)>();
        await using (var bare = ChildProcess.StartThisProgram("bare Kestrel", BareServer.Command, ServerEnvironment(bareAddress), Path.Combine(workDirectory, "bare.log")))
        await using (var relay = ChildProcess.Start("relay", options.RelayDll ?? RelayDll(), [], environment, Path.Combine(workDirectory, "relay.log")))
        {
            await bare.WaitUntilReadyAsync(new Uri(bareAddress, "/healthz"), StartupTimeout, cancellationToken);
            await relay.WaitUntilReadyAsync(new Uri(relayAddress, "/readyz"), StartupTimeout, cancellationToken);
            var settings = options.RelaySettings.Count == 0 ? "" : $" with {string.Join(", ", options.RelaySettings.Select(s => $"{s.Key}={s.Value}"))}";
            output.WriteLine($"(a) bare Kestrel on {bareAddress}; (b) relay {(options.RelayDll is null ? "" : options.RelayDll + " ")}on {relayAddress}{settings}, " +
                             $"PostgreSQL from {binDirectory} on port {postgres.Port} (fsync on); {options.Rounds} round(s) of {options.WarmupSeconds} s warm-up and {options.Seconds} s measured each…");

            var metrics = new Uri(relayAddress, "/metrics");
            using var scrape = new HttpClient();
            var notifications = new FollowNotifications(Secret);
            for (var round = 1; round <= options.Rounds; round++)
            {
                var bareLoad = await MeasureAsync("(a) bare Kestrel: read body, 204", bare, null, bareAddress, notifications, cancellationToken);
                var before = await MetricsSnapshot.ScrapeAsync(scrape, metrics, cancellationToken);
                var relayLoad = await MeasureAsync("(b) relay /eventsub: durable 204", relay, postgres, relayAddress, notifications, cancellationToken);
                var after = await MetricsSnapshot.ScrapeAsync(scrape, metrics, cancellationToken);
                rounds.Add((bareLoad, relayLoad, after.Minus(before)));
                PrintRound(round, bareLoad, relayLoad, after.Minus(before));
            }
        }

        // The relay has drained and stopped: every acknowledged notification must be in the table.
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM notifications");
        var stored = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        PrintSummary(rounds, stored);
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

    private void PrintRound(int round, LoadResult bare, LoadResult relay, MetricsSnapshot commits)
    {
        output.WriteLine();
        output.WriteLine($"Round {round} of {options.Rounds}: {Environment.ProcessorCount} cores, concurrency {options.Concurrency}, " +
                         $"{options.Seconds} s measured after {options.WarmupSeconds} s warm-up, channel.follow bodies of {FollowNotifications.TypicalBodyBytes} bytes, " +
                         $"load average {LoadAverage()}");
        output.WriteLine($"{"",-36} {"req/s",10} {"p50 ms",8} {"p99 ms",8} {"errors",8}");
        foreach (var result in (LoadResult[])[bare, relay])
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Target,-36} {result.RequestsPerSecond,10:N0} {result.P50Milliseconds,8:0.00} {result.P99Milliseconds,8:0.00} {result.ErrorCount,8:N0}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"b/a",-36} {relay.RequestsPerSecond / bare.RequestsPerSecond,10:0.00}"));
        foreach (var result in (LoadResult[])[bare, relay])
        {
            if (result.ErrorCount > 0)
            {
                output.WriteLine($"{result.Target} errors: {string.Join(", ", result.Errors.Select(e => $"{e.Key} × {e.Value}"))}");
            }
        }

        output.WriteLine(commits.Commits > 0
            ? string.Create(CultureInfo.InvariantCulture,
                $"relay in the measured window: {commits.Commits:N0} commits, average batch {commits.Notifications / commits.Commits:0.0} notifications; " +
                $"{commits.EventsSent / options.Seconds:N0} overlay events sent/s; {commits.AllocatedBytes / Math.Max(1, relay.Acknowledged) / 1024:N1} KiB allocated per acknowledged notification")
            : "relay commits in the measured window: none reported by /metrics");
        output.WriteLine("CPU per acknowledged notification in the measured window (less sensitive than req/s to other load on the machine):");
        foreach (var result in (LoadResult[])[bare, relay])
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

    private void PrintSummary(List<(LoadResult Bare, LoadResult Relay, MetricsSnapshot Stats)> rounds, long storedRows)
    {
        output.WriteLine();
        output.WriteLine($"Summary of {rounds.Count} round(s), concurrency {options.Concurrency} (min – max, then every round in order):");
        Line("(a) bare req/s", rounds.Select(r => r.Bare.RequestsPerSecond), "N0");
        Line("(b) relay req/s", rounds.Select(r => r.Relay.RequestsPerSecond), "N0");
        Line("b/a", rounds.Select(r => r.Relay.RequestsPerSecond / r.Bare.RequestsPerSecond), "0.00");
        Line("relay p99 ms", rounds.Select(r => r.Relay.P99Milliseconds), "0.0");
        Line("relay KiB allocated per notification", rounds.Select(r => r.Stats.AllocatedBytes / Math.Max(1, r.Relay.Acknowledged) / 1024), "0.0");
        Line("relay + PostgreSQL CPU µs per notification", rounds.Select(r => PerNotification(r.Relay, r.Relay.Cpu.Server + (r.Relay.Cpu.Postgres ?? TimeSpan.Zero))), "0");
        Line("  without the JIT's tiering thread", rounds.Select(r => PerNotification(r.Relay, r.Relay.Cpu.Server + (r.Relay.Cpu.Postgres ?? TimeSpan.Zero) - Jit(r.Relay))), "0");
        Line("relay CPU µs per notification", rounds.Select(r => PerNotification(r.Relay, r.Relay.Cpu.Server)), "0");
        Line("  without the JIT's tiering thread", rounds.Select(r => PerNotification(r.Relay, r.Relay.Cpu.Server - Jit(r.Relay))), "0");
        Line("PostgreSQL CPU µs per notification", rounds.Select(r => PerNotification(r.Relay, r.Relay.Cpu.Postgres ?? TimeSpan.Zero)), "0");
        Line("bare Kestrel CPU µs per request", rounds.Select(r => PerNotification(r.Bare, r.Bare.Cpu.Server)), "0");
        var errors = rounds.Sum(r => r.Relay.ErrorCount + r.Bare.ErrorCount);
        output.WriteLine($"errors in measured windows: {errors:N0}");

        var acknowledged = rounds.Sum(r => r.Relay.AcknowledgedInWholeRun);
        var verdict = storedRows >= acknowledged ? "" : "  <-- FEWER ROWS THAN ACKNOWLEDGEMENTS";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"relay durability check: {acknowledged:N0} notifications acknowledged with 204 (all rounds, warm-ups included), {storedRows:N0} rows stored{verdict}"));

        void Line(string name, IEnumerable<double> values, string format)
        {
            var list = values.ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-44} {list.Min().ToString(format, CultureInfo.InvariantCulture)} – {list.Max().ToString(format, CultureInfo.InvariantCulture)}   ({string.Join(", ", list.Select(v => v.ToString(format, CultureInfo.InvariantCulture)))})"));
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
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EventSubRelay.sln")))
            {
                var dll = Path.Combine(directory.FullName, "src", "EventSubRelay", "bin", configuration, framework, "EventSubRelay.dll");
                return File.Exists(dll) ? dll : throw new FileNotFoundException($"The relay is not built at {dll}.", dll);
            }
        }

        throw new DirectoryNotFoundException($"No EventSubRelay.sln above {AppContext.BaseDirectory}.");
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
