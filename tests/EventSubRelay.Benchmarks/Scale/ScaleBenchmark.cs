using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using EventSubRelay.Benchmarks.Latency;
using EventSubRelay.Data;
using EventSubRelay.Overlay;

namespace EventSubRelay.Benchmarks.Scale;

/// <summary>
/// Many overlay connections on one relay: webhook-to-overlay latency at one event per second per broadcaster, the
/// relay's memory per connection, and a reconnect storm (every connection dropped at once, each resuming with
/// <c>?afterSeq=</c>) with a count of what each connection missed or received twice. The SignalR-only server with
/// the same connections and the same POSTs is the baseline, measured alternately with the relay.
/// </summary>
internal static class ScaleBenchmark
{
    /// <summary>The most connections a run opens, whatever is asked.</summary>
    public const int MaxConnections = 10_000;

    /// <summary>File descriptors each process keeps for everything but overlay sockets (PostgreSQL, webhooks, logs, assemblies).</summary>
    private const int ReservedDescriptors = 1_000;

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StormTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan AfterStorm = TimeSpan.FromSeconds(5);

    /// <summary>Between the measured window and the drop, so that what was sent in the window has arrived before it.</summary>
    private static readonly TimeSpan BeforeStorm = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(15);

    /// <param name="Rate">Webhooks per second over all broadcasters (default: one per broadcaster).</param>
    public sealed record Settings(int Connections = MaxConnections, int Broadcasters = 1_000, int Rate = 0, int WarmUpSeconds = 5, int Seconds = 20, int Rounds = 1, bool Baseline = true);

    public static async Task<int> RunAsync(Settings requested)
    {
        var descriptors = OpenFileLimit();
        var connections = Math.Min(Math.Min(requested.Connections, MaxConnections), descriptors - ReservedDescriptors);
        var settings = requested with
        {
            Connections = connections,
            Broadcasters = Math.Clamp(requested.Broadcasters, 1, connections),
            Rate = requested.Rate > 0 ? requested.Rate : Math.Clamp(requested.Broadcasters, 1, connections),
            Seconds = Math.Clamp(requested.Seconds, 1, 300),
            WarmUpSeconds = Math.Clamp(requested.WarmUpSeconds, 0, 60),
            Rounds = Math.Clamp(requested.Rounds, 1, 5),
        };
        Console.WriteLine($"Scale: {settings.Connections:N0} overlay connections ({requested.Connections:N0} asked, at most {MaxConnections:N0}; open files per process: {descriptors:N0}, " +
                          $"the hard limit, which .NET raises the soft limit to), {settings.Broadcasters:N0} broadcasters, {settings.Rate:N0} webhooks/s, " +
                          $"{settings.Seconds} s measured after {settings.WarmUpSeconds} s warm-up, then a reconnect storm; {settings.Rounds} round(s) of " +
                          $"{(settings.Baseline ? "SignalR only then relay" : "relay")}; {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        var binDirectory = LocalPostgres.FindBinDirectory() ?? throw new InvalidOperationException("PostgreSQL binaries are required.");
        var workDirectory = Path.Combine(Path.GetTempPath(), "eventsubrelay-scale", Guid.NewGuid().ToString("N"));
        var postgres = await LocalPostgres.StartAsync(binDirectory, Path.Combine(workDirectory, "postgres"), LocalPostgres.FreePort(), durable: true);
        var results = new List<PhaseResult>();
        try
        {
            await postgres.CreateDatabaseAsync("relay");
            var relayAddress = Benchmark.LoopbackAddress();
            var environment = new Dictionary<string, string>(Benchmark.ServerEnvironment(relayAddress))
            {
                ["ConnectionStrings__Postgres"] = postgres.ConnectionString("relay"),
                ["EventSub__Secret"] = LatencyBenchmark.Secret,
                ["Database__MigrateOnStartup"] = "true",
            };
            await using var relay = ChildProcess.Start("relay", Benchmark.RelayDll(), [], environment, Path.Combine(workDirectory, "relay.log"));
            var baselineAddress = Benchmark.LoopbackAddress();
            await using var baseline = settings.Baseline
                ? ChildProcess.StartThisProgram("SignalR-only server", SignalROnlyServer.Command, Benchmark.ServerEnvironment(baselineAddress), Path.Combine(workDirectory, "signalr.log"))
                : null;
            await relay.WaitUntilReadyAsync(new Uri(relayAddress, "/readyz"), TimeSpan.FromSeconds(90), CancellationToken.None);
            if (baseline is not null)
            {
                await baseline.WaitUntilReadyAsync(new Uri(baselineAddress, "/healthz"), TimeSpan.FromSeconds(90), CancellationToken.None);
            }

            var tokens = await LatencyBenchmark.CreateTokensAsync(postgres.ConnectionString("relay"), settings.Broadcasters);
            // The relay checks its token cache against the database every 2 s; let it load them, so connecting reads no database.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Console.WriteLine($"relay: max open files {OpenFileLimit(relay.Id):N0}; PostgreSQL max_connections {await MaxConnectionsAsync(postgres):N0}");

            var relayTarget = new Phase(new ScaleTarget("relay", new Uri(relayAddress, OverlayExtensions.HubPath), Subscribes: true), relay, relayAddress, tokens, settings);
            var baselineTarget = baseline is null ? null
                : new Phase(new ScaleTarget("SignalR only", new Uri(baselineAddress, SignalROnlyServer.HubPath), Subscribes: false), baseline, baselineAddress,
                    [.. Enumerable.Range(0, settings.Broadcasters).Select(LatencyBenchmark.BroadcasterId)], settings);
            for (var round = 1; round <= settings.Rounds; round++)
            {
                if (baselineTarget is not null)
                {
                    results.Add(await baselineTarget.RunAsync(round));
                    Print(results[^1]);
                }

                results.Add(await relayTarget.RunAsync(round));
                Print(results[^1]);
            }

            PrintSummary(settings, results);
            PrintRelayLog(relay.LogFile);
        }
        finally
        {
            await postgres.StopAsync();
            Directory.Delete(workDirectory, recursive: true);
        }

        return results.Where(r => r.Target == "relay").All(r => r.Missed == 0 && r.Duplicates == 0 && r.Foreign == 0 && r.NotSubscribed == 0 && r.Refused == 0) ? 0 : 1;
    }

    /// <summary>One target's part of a round: connect every overlay, measure, storm, count.</summary>
    private sealed class Phase(ScaleTarget target, ChildProcess server, Uri address, string[] tokens, Settings settings)
    {
        public async Task<PhaseResult> RunAsync(int round)
        {
            var load = new List<string> { LoadAverage() };
            var slots = Enumerable.Range(0, settings.Connections)
                .Select(i => new OverlaySlot(i, i % settings.Broadcasters, tokens[i % settings.Broadcasters]))
                .ToArray();
            var sent = new ConcurrentDictionary<string, SentEvent>(StringComparer.Ordinal);
            var latencies = new ConcurrentQueue<double>();
            var lateMeasured = 0;
            var dropped = false;
            var stormLatencies = new ConcurrentQueue<double>();
            foreach (var slot in slots)
            {
                slot.Received = (e, at) =>
                {
                    if (e.Measured && !Volatile.Read(ref dropped))
                    {
                        latencies.Enqueue(Stopwatch.GetElapsedTime(e.SentAt, at).TotalMilliseconds);
                    }
                    else if (e.Measured)
                    {
                        // Had not arrived when the connection was dropped: it came with the replay, not in the steady state.
                        Interlocked.Increment(ref lateMeasured);
                    }
                    else if (e.DuringStorm)
                    {
                        stormLatencies.Enqueue(Stopwatch.GetElapsedTime(e.SentAt, at).TotalMilliseconds);
                    }
                };
            }

            // Connect in batches: this is the overlays going live one after another, not the storm.
            var rssBefore = ResidentBytes(server.Id);
            var connectStart = Stopwatch.GetTimestamp();
            var deadline = connectStart + (long)(ConnectTimeout.TotalSeconds * Stopwatch.Frequency);
            var connected = 0;
            foreach (var batch in slots.Chunk(100))
            {
                var ok = await Task.WhenAll(batch.Select(s => s.ConnectAsync(target, afterSeq: null, sent, deadline)));
                connected += ok.Count(c => c);
            }

            var connectSeconds = Stopwatch.GetElapsedTime(connectStart).TotalSeconds;
            var rssAfter = ResidentBytes(server.Id);
            Console.WriteLine($"{target.Name} #{round}: {connected:N0} of {slots.Length:N0} connected and subscribed in {connectSeconds:0.0} s; " +
                              $"RSS {rssBefore / 1048576.0:0} → {rssAfter / 1048576.0:0} MiB");

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = address };
            var sender = new Sender(http, settings, sent);
            var sending = sender.RunAsync();
            await Task.Delay(TimeSpan.FromSeconds(settings.WarmUpSeconds));
            sender.Measuring = true;
            await Task.Delay(TimeSpan.FromSeconds(settings.Seconds));
            sender.Measuring = false;
            load.Add(LoadAverage());
            await Task.Delay(BeforeStorm);
            var steadyReceipts = latencies.Count;

            // The storm: every socket aborted at once, then every overlay reconnects at once, resuming after its last seq.
            sender.Storm = true;
            var stormStart = Stopwatch.GetTimestamp();
            Volatile.Write(ref dropped, true);
            foreach (var slot in slots)
            {
                slot.Drop();
            }

            var stormDeadline = stormStart + (long)(StormTimeout.TotalSeconds * Stopwatch.Frequency);
            var retriesBefore = slots.Sum(s => s.Retries);
            var back = await Task.WhenAll(slots.Select(s => s.ResumeAsync(target, sent, stormDeadline)));
            sender.Storm = false;
            var stormSeconds = Stopwatch.GetElapsedTime(stormStart).TotalSeconds;
            var reconnectSeconds = slots.Where((_, i) => back[i]).Select(s => Stopwatch.GetElapsedTime(stormStart, s.SubscribedAt).TotalSeconds).Order().ToArray();
            load.Add(LoadAverage());

            await Task.Delay(AfterStorm);
            sender.Stop();
            await sending;
            await DrainAsync(slots, sent.Values, target.Subscribes ? DrainTimeout : TimeSpan.FromSeconds(2));
            load.Add(LoadAverage());

            var result = Count(round, slots, sent.Values, back.Count(b => b), sender.Refused) with
            {
                Connected = connected,
                ConnectSeconds = connectSeconds,
                RssPerConnectionKiB = (rssAfter - rssBefore) / 1024.0 / Math.Max(1, connected),
                RssAfterMiB = rssAfter / 1048576.0,
                SteadyReceiptsPerSecond = steadyReceipts / (double)settings.Seconds,
                Latency = Summary.Of(latencies),
                LateMeasured = lateMeasured,
                StormSeconds = reconnectSeconds.LastOrDefault(double.NaN),
                StormWaitedSeconds = stormSeconds,
                StormP50Seconds = LatencyBenchmark.Percentile(reconnectSeconds, 0.5),
                StormRetries = slots.Sum(s => s.Retries) - retriesBefore,
                StormLatency = Summary.Of(stormLatencies),
                Load = string.Join(" | ", load),
            };
            await Task.WhenAll(slots.Select(s => s.CloseAsync()));
            return result;
        }

        /// <summary>
        /// Waits until every acknowledged event has reached every overlay of its broadcaster, or the timeout (short for
        /// the baseline, which has no replay: what it sent during the storm to dropped connections never arrives).
        /// </summary>
        private static async Task DrainAsync(OverlaySlot[] slots, ICollection<SentEvent> sent, TimeSpan timeout)
        {
            var waiting = Stopwatch.StartNew();
            var acknowledged = sent.Where(e => e.Acknowledged).GroupBy(e => e.Broadcaster).ToDictionary(g => g.Key, g => g.ToList());
            while (waiting.Elapsed < timeout
                   && slots.Any(s => acknowledged.TryGetValue(s.Broadcaster, out var events) && events.Any(e => !s.HasReceived(e))))
            {
                await Task.Delay(500);
            }
        }

        private PhaseResult Count(int round, OverlaySlot[] slots, ICollection<SentEvent> sent, int back, int refused)
        {
            var byBroadcaster = sent.Where(e => e.Acknowledged).GroupBy(e => e.Broadcaster).ToDictionary(g => g.Key, g => g.ToList());
            long expected = 0, missed = 0, stormExpected = 0, stormMissed = 0;
            var slotsMissing = 0;
            foreach (var slot in slots)
            {
                var mine = byBroadcaster.GetValueOrDefault(slot.Broadcaster) ?? [];
                var lost = mine.Where(e => !slot.HasReceived(e)).ToList();
                expected += mine.Count;
                missed += lost.Count;
                stormExpected += mine.Count(e => e.DuringStorm);
                stormMissed += lost.Count(e => e.DuringStorm);
                slotsMissing += lost.Count > 0 ? 1 : 0;
            }

            return new PhaseResult(target.Name, round, settings.Connections)
            {
                Sent = sent.Count,
                StormSent = sent.Count(e => e.DuringStorm),
                Refused = refused,
                Expected = expected,
                Missed = missed,
                SlotsMissing = slotsMissing,
                StormExpected = stormExpected,
                StormMissed = stormMissed,
                Duplicates = slots.Sum(s => s.Duplicates),
                SlotsWithDuplicates = slots.Count(s => s.Duplicates > 0),
                Foreign = slots.Sum(s => s.Foreign),
                NotSubscribed = slots.Length - back,
            };
        }
    }

    /// <summary>Webhooks at a fixed rate (10 ms ticks), round-robin over the broadcasters, until stopped.</summary>
    private sealed class Sender(HttpClient http, Settings settings, ConcurrentDictionary<string, SentEvent> sent)
    {
        private volatile bool _stopped;
        private int _refused;

        public volatile bool Measuring;
        public volatile bool Storm;

        public int Refused => _refused;

        public void Stop() => _stopped = true;

        public async Task RunAsync()
        {
            var pending = new List<Task>();
            var broadcaster = 0;
            long tick = 0;
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
            while (!_stopped && await timer.WaitForNextTickAsync())
            {
                // Rates that are not a multiple of 100/s spread over the ticks.
                tick++;
                var now = tick * settings.Rate / 100 - (tick - 1) * settings.Rate / 100;
                for (var i = 0; i < now; i++)
                {
                    var target = broadcaster++ % settings.Broadcasters;
                    var id = Guid.NewGuid().ToString();
                    var sentEvent = new SentEvent(target, Stopwatch.GetTimestamp(), Measuring, Storm);
                    sent[id] = sentEvent;
                    pending.Add(SendAsync(id, sentEvent));
                }

                if (pending.Count > 10_000)
                {
                    pending.RemoveAll(t => t.IsCompleted);
                }
            }

            await Task.WhenAll(pending);
        }

        private async Task SendAsync(string id, SentEvent sentEvent)
        {
            try
            {
                using var response = await LatencyBenchmark.SendWebhookAsync(http, LatencyBenchmark.BroadcasterId(sentEvent.Broadcaster), id);
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    sentEvent.Acknowledged = true;
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Counted below, like any other answer than 204.
            }

            Interlocked.Increment(ref _refused);
        }
    }

    private sealed record PhaseResult(string Target, int Round, int Connections)
    {
        public int Connected { get; init; }
        public double ConnectSeconds { get; init; }
        public double RssPerConnectionKiB { get; init; }
        public double RssAfterMiB { get; init; }
        public double SteadyReceiptsPerSecond { get; init; }
        public Summary Latency { get; init; } = Summary.Empty;
        public int LateMeasured { get; init; }
        public int Sent { get; init; }
        public int StormSent { get; init; }
        public int Refused { get; init; }
        public long Expected { get; init; }
        public long Missed { get; init; }
        public int SlotsMissing { get; init; }
        public long StormExpected { get; init; }
        public long StormMissed { get; init; }
        public int Duplicates { get; init; }
        public int SlotsWithDuplicates { get; init; }
        public int Foreign { get; init; }
        public int NotSubscribed { get; init; }
        public double StormSeconds { get; init; }
        public double StormWaitedSeconds { get; init; }
        public double StormP50Seconds { get; init; }
        public int StormRetries { get; init; }
        public Summary StormLatency { get; init; } = Summary.Empty;
        public string Load { get; init; } = "";
    }

    private sealed record Summary(int Count, double P50, double P99, double Max)
    {
        public static Summary Empty { get; } = new(0, double.NaN, double.NaN, double.NaN);

        public static Summary Of(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? Empty : new(sorted.Length, LatencyBenchmark.Percentile(sorted, 0.5), LatencyBenchmark.Percentile(sorted, 0.99), sorted[^1]);
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"p50 {P50:0.0} ms, p99 {P99:0.0} ms, max {Max:0.0} ms ({Count:N0} receipts)");
    }

    private static void Print(PhaseResult r)
    {
        var resumes = r.Target == "relay";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            {r.Target} #{r.Round}: {r.Connected:N0} connections, RSS {r.RssAfterMiB:0} MiB, {r.RssPerConnectionKiB:0.0} KiB per connection; load average {r.Load}
              steady webhook -> overlay: {r.Latency}, {r.SteadyReceiptsPerSecond:N0} receipts/s; {r.LateMeasured:N0} receipts of the window's events came after the drop (not counted)
              storm: all {r.Connections - r.NotSubscribed:N0} of {r.Connections:N0} subscribed again {r.StormSeconds:0.00} s after the drop (half of them by {r.StormP50Seconds:0.00} s), {r.StormRetries:N0} retried attempts
              storm: {r.StormSent:N0} webhooks sent meanwhile, {r.StormExpected:N0} deliveries due, {(resumes ? $"{r.StormMissed:N0} missed" : "not resumed (no replay in the baseline)")}; their webhook -> overlay: {r.StormLatency}
              whole phase: {r.Sent:N0} webhooks, {r.Refused:N0} not answered 204, {r.Expected:N0} deliveries due, {(resumes ? $"{r.Missed:N0} missed ({r.SlotsMissing:N0} connections)" : $"{r.Missed:N0} not delivered (storm, no replay)")}, {r.Duplicates:N0} duplicates ({r.SlotsWithDuplicates:N0} connections), {r.Foreign:N0} of another broadcaster
            """));
    }

    private static void PrintSummary(Settings settings, List<PhaseResult> results)
    {
        Console.WriteLine();
        Console.WriteLine($"Summary, {settings.Connections:N0} connections, {settings.Broadcasters:N0} broadcasters, {settings.Rate:N0} webhooks/s:");
        Console.WriteLine($"{"target",-14} {"round",5} {"p50 ms",8} {"p99 ms",8} {"max ms",8} {"KiB/conn",9} {"storm s",8} {"missed",7} {"dup",5} {"load average (start | steady | storm | end)",-40}");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Target,-14} {r.Round,5} {r.Latency.P50,8:0.0} {r.Latency.P99,8:0.0} {r.Latency.Max,8:0.0} {r.RssPerConnectionKiB,9:0.0} {r.StormSeconds,8:0.00} {(r.Target == "relay" ? r.Missed.ToString(CultureInfo.InvariantCulture) : "-"),7} {r.Duplicates,5} {r.Load}"));
        }

        var pairs = results.Where(r => r.Target == "relay").Select(relay => (relay, baseline: results.FirstOrDefault(b => b.Target != "relay" && b.Round == relay.Round))).Where(p => p.baseline is not null).ToList();
        if (pairs.Count > 0)
        {
            Console.WriteLine("relay / SignalR only per round: " + string.Join("; ", pairs.Select(p => string.Create(CultureInfo.InvariantCulture,
                $"p99 {p.relay.Latency.P99 / p.baseline!.Latency.P99:0.00}x, KiB per connection {p.relay.RssPerConnectionKiB / p.baseline.RssPerConnectionKiB:0.00}x, storm {p.relay.StormSeconds / p.baseline.StormSeconds:0.00}x"))));
        }

        var relays = results.Where(r => r.Target == "relay").ToList();
        var p99 = relays.Max(r => r.Latency.P99);
        var storm = relays.Max(r => r.StormSeconds);
        var fewer = settings.Connections < MaxConnections ? $" (fewer than {MaxConnections:N0} connections: the targets are for {MaxConnections:N0})" : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"targets at {settings.Connections:N0} connections: p99 < 1 s: {(p99 < 1000 ? "met" : "NOT met")} (worst {p99:0} ms); storm within 30 s: {(storm < 30 ? "met" : "NOT met")} (worst {storm:0.0} s); zero missed: {(relays.All(r => r.Missed == 0 && r.NotSubscribed == 0) ? "met" : "NOT met")}; zero duplicates: {(relays.All(r => r.Duplicates == 0) ? "yes" : "NO")}{fewer}"));
    }

    /// <summary>
    /// The relay's warnings and errors, grouped by the message template's id, each with its first rendered message
    /// (its log is JSON lines in Production: <c>@l</c> level, <c>@i</c> template id, <c>@m</c> message).
    /// </summary>
    private static void PrintRelayLog(string logFile)
    {
        var lines = File.Exists(logFile) ? File.ReadLines(logFile).ToList() : [];
        var notable = lines
            .Select(line => (Line: line, Level: Field(line, "@l")))
            .Where(l => l.Level is "Warning" or "Error" or "Fatal")
            .GroupBy(l => (l.Level, Field(l.Line, "@i")))
            .OrderByDescending(g => g.Count())
            .ToList();
        Console.WriteLine($"relay log: {lines.Count:N0} lines, {notable.Sum(g => g.Count()):N0} warnings or errors{(notable.Count > 0 ? ":" : "")}");
        foreach (var group in notable.Take(10))
        {
            var message = Field(group.First().Line, "@m") ?? group.First().Line;
            Console.WriteLine($"  {group.Count(),6:N0} × {group.Key.Level}: {(message.Length > 240 ? message[..240] + "…" : message)}");
        }

        static string? Field(string line, string name)
        {
            try
            {
                using var json = System.Text.Json.JsonDocument.Parse(line);
                return json.RootElement.TryGetProperty(name, out var value) ? value.ToString() : null;
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }

    private static long ResidentBytes(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).First();

    /// <summary>The soft limit of open files of a process (this one by default), from /proc.</summary>
    private static int OpenFileLimit(int? pid = null)
    {
        var line = File.ReadLines($"/proc/{(pid is { } p ? p.ToString(CultureInfo.InvariantCulture) : "self")}/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? int.MaxValue : int.Parse(soft, CultureInfo.InvariantCulture);
    }

    private static async Task<int> MaxConnectionsAsync(LocalPostgres postgres)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(postgres.ConnectionString("relay"));
        await using var command = dataSource.CreateCommand("SHOW max_connections");
        return int.Parse((string)(await command.ExecuteScalarAsync())!, CultureInfo.InvariantCulture);
    }

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
}
