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
    private const int RequiredPerSecond = 10_000;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(90);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var workDirectory = Path.Combine(Path.GetTempPath(), $"eventsubrelay-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(workDirectory);
        try
        {
            var bare = await RunBareAsync(workDirectory, cancellationToken);
            var (relay, relayStats) = await RunRelayAsync(workDirectory, cancellationToken);
            PrintReport(bare, relay, relayStats);
        }
        finally
        {
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    private async Task<LoadResult> RunBareAsync(string workDirectory, CancellationToken cancellationToken)
    {
        var baseAddress = LoopbackAddress();
        await using var server = ChildProcess.StartThisProgram("bare Kestrel", BareServer.Command, ServerEnvironment(baseAddress), Path.Combine(workDirectory, "bare.log"));
        await server.WaitUntilReadyAsync(new Uri(baseAddress, "/healthz"), StartupTimeout, cancellationToken);
        output.WriteLine($"(a) bare Kestrel on {baseAddress}: {options.WarmupSeconds} s warm-up, {options.Seconds} s measured…");
        var measuring = LoadGenerator.RunAsync("(a) bare Kestrel: read body, 204", new Uri(baseAddress, "/eventsub"), new FollowNotifications(Secret), options, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds), cancellationToken);
        var cpu = CpuSample.Take(server, postgres: null);
        var load = await measuring;
        return load with { Cpu = CpuSample.Take(server, postgres: null).Minus(cpu) };
    }

    private async Task<(LoadResult Load, RelayStats Stats)> RunRelayAsync(string workDirectory, CancellationToken cancellationToken)
    {
        var binDirectory = LocalPostgres.FindBinDirectory()
            ?? throw new InvalidOperationException("The benchmark needs PostgreSQL binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin.");
        var postgres = await LocalPostgres.StartAsync(binDirectory, Path.Combine(workDirectory, "postgres"), LocalPostgres.FreePort(), durable: true, cancellationToken);
        try
        {
            await postgres.CreateDatabaseAsync(Database, cancellationToken);
            var connectionString = postgres.ConnectionString(Database);
            var baseAddress = LoopbackAddress();
            var environment = new Dictionary<string, string>(ServerEnvironment(baseAddress))
            {
                ["ConnectionStrings__Postgres"] = connectionString,
                ["EventSub__Secret"] = Secret,
                ["Database__MigrateOnStartup"] = "true",
            };
            foreach (var (key, value) in options.RelaySettings)
            {
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }

            LoadResult load;
            MetricsSnapshot before, after;
            await using (var relay = ChildProcess.Start("relay", options.RelayDll ?? RelayDll(), [], environment, Path.Combine(workDirectory, "relay.log")))
            {
                await relay.WaitUntilReadyAsync(new Uri(baseAddress, "/readyz"), StartupTimeout, cancellationToken);
                var settings = options.RelaySettings.Count == 0 ? "" : $" with {string.Join(", ", options.RelaySettings.Select(s => $"{s.Key}={s.Value}"))}";
                output.WriteLine($"(b) relay {(options.RelayDll is null ? "" : options.RelayDll + " ")}on {baseAddress}{settings}, PostgreSQL from {binDirectory} on port {postgres.Port} (fsync on): {options.WarmupSeconds} s warm-up, {options.Seconds} s measured…");

                var metrics = new Uri(baseAddress, "/metrics");
                using var scrape = new HttpClient();
                var notifications = new FollowNotifications(Secret);
                var measuring = LoadGenerator.RunAsync("(b) relay /eventsub: durable 204", new Uri(baseAddress, "/eventsub"), notifications, options, cancellationToken);
                await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds), cancellationToken);
                before = await MetricsSnapshot.ScrapeAsync(scrape, metrics, cancellationToken);
                var cpu = CpuSample.Take(relay, postgres);
                load = await measuring;
                load = load with { Cpu = CpuSample.Take(relay, postgres).Minus(cpu) };
                after = await MetricsSnapshot.ScrapeAsync(scrape, metrics, cancellationToken);
            }

            // The relay has drained and stopped: every acknowledged notification must be in the table.
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await using var count = dataSource.CreateCommand("SELECT count(*) FROM notifications");
            var stored = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            return (load, new RelayStats(after.Minus(before), stored));
        }
        finally
        {
            await postgres.StopAsync(CancellationToken.None);
        }
    }

    private void PrintReport(LoadResult bare, LoadResult relay, RelayStats stats)
    {
        output.WriteLine();
        output.WriteLine($"EventSubRelay ingest benchmark: {Environment.ProcessorCount} cores, concurrency {options.Concurrency}, " +
                         $"{options.Seconds} s measured after {options.WarmupSeconds} s warm-up, channel.follow bodies of {FollowNotifications.TypicalBodyBytes} bytes");
        output.WriteLine($"{"",-36} {"req/s",10} {"p50 ms",8} {"p99 ms",8} {"errors",8}");
        foreach (var result in (LoadResult[])[bare, relay])
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Target,-36} {result.RequestsPerSecond,10:N0} {result.P50Milliseconds,8:0.00} {result.P99Milliseconds,8:0.00} {result.ErrorCount,8:N0}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"b/a",-36} {relay.RequestsPerSecond / bare.RequestsPerSecond,10:0.00}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"requirement (issue 2): at least {RequiredPerSecond:N0} durable acknowledgements/s: {(relay.RequestsPerSecond >= RequiredPerSecond && relay.ErrorCount == 0 ? "met" : "NOT met")} in this run"));
        foreach (var result in (LoadResult[])[bare, relay])
        {
            if (result.ErrorCount > 0)
            {
                output.WriteLine($"{result.Target} errors: {string.Join(", ", result.Errors.Select(e => $"{e.Key} × {e.Value}"))}");
            }
        }

        var commits = stats.Measured;
        output.WriteLine(commits.Commits > 0
            ? string.Create(CultureInfo.InvariantCulture,
                $"relay in the measured window: {commits.Commits:N0} commits, average batch {commits.Notifications / commits.Commits:0.0} notifications; {commits.EventsSent / options.Seconds:N0} overlay events sent/s")
            : "relay commits in the measured window: none reported by /metrics");
        output.WriteLine("CPU per acknowledged notification in the measured window (less sensitive than req/s to other load on the machine):");
        foreach (var result in (LoadResult[])[bare, relay])
        {
            var perRequest = (TimeSpan cpu) => result.Acknowledged == 0 ? double.NaN : cpu.TotalMicroseconds / result.Acknowledged;
            var database = result.Cpu.Postgres is { } postgres ? string.Create(CultureInfo.InvariantCulture, $", PostgreSQL {perRequest(postgres),5:0} µs") : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {result.Target,-34} server {perRequest(result.Cpu.Server),5:0} µs{database}, load generator {perRequest(result.Cpu.LoadGenerator),5:0} µs"));
        }

        var verdict = stats.StoredRows >= relay.AcknowledgedInWholeRun ? "" : "  <-- FEWER ROWS THAN ACKNOWLEDGEMENTS";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"relay durability check: {relay.AcknowledgedInWholeRun:N0} notifications acknowledged with 204 (whole run), {stats.StoredRows:N0} rows stored{verdict}"));
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

    private sealed record RelayStats(MetricsSnapshot Measured, long StoredRows);
}

/// <summary>CPU time used so far by the server under test, its PostgreSQL (all server processes) and this load generator.</summary>
internal sealed record CpuSample(TimeSpan Server, TimeSpan? Postgres, TimeSpan LoadGenerator)
{
    public static CpuSample Empty { get; } = new(TimeSpan.Zero, null, TimeSpan.Zero);

    public static CpuSample Take(ChildProcess server, LocalPostgres? postgres) =>
        new(server.CpuTime, postgres is null ? null : PostgresCpu(postgres), Process.GetCurrentProcess().TotalProcessorTime);

    public CpuSample Minus(CpuSample earlier) => new(Server - earlier.Server, Postgres - earlier.Postgres, LoadGenerator - earlier.LoadGenerator);

    /// <summary>The postmaster and its children (backends, WAL writer, checkpointer…), from /proc.</summary>
    private static TimeSpan PostgresCpu(LocalPostgres postgres)
    {
        var postmaster = File.ReadLines(Path.Combine(postgres.DataDirectory, "postmaster.pid")).First().Trim();
        var ticks = 0L;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(directory);
            if (!pid.All(char.IsAsciiDigit))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                continue; // The process ended meanwhile.
            }

            // After "pid (comm)": state ppid … utime (14th field) stime (15th).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (pid == postmaster || fields[1] == postmaster)
            {
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
        }

        // Linux reports these in clock ticks of 1/100 s (USER_HZ).
        return TimeSpan.FromMilliseconds(ticks * 10);
    }
}

/// <summary>The relay's commit batch histogram and sent-events counter, from its Prometheus endpoint.</summary>
internal sealed record MetricsSnapshot(double Notifications, double Commits, double EventsSent)
{
    public static async Task<MetricsSnapshot> ScrapeAsync(HttpClient client, Uri url, CancellationToken cancellationToken)
    {
        var lines = (await client.GetStringAsync(url, cancellationToken)).Split('\n');
        return new MetricsSnapshot(
            Sum(lines, "eventsubrelay_commit_batch_size_sum"),
            Sum(lines, "eventsubrelay_commit_batch_size_count"),
            Sum(lines, "eventsubrelay_events_sent_total"));
    }

    public MetricsSnapshot Minus(MetricsSnapshot earlier) =>
        new(Notifications - earlier.Notifications, Commits - earlier.Commits, EventsSent - earlier.EventsSent);

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
