using EventSubRelay.Benchmarks;
using EventSubRelay.Benchmarks.Latency;
using EventSubRelay.Benchmarks.Scale;

// The bare Kestrel baseline runs as a child process of this same program.
if (args is [BareServer.Command, ..])
{
    await BareServer.RunAsync(args[1..]);
    return 0;
}

// The SignalR-only latency baseline too.
if (args is [SignalROnlyServer.Command, ..])
{
    await SignalROnlyServer.RunAsync(args[1..]);
    return 0;
}

// latency [--seconds N] [--rate N] [--clients N] [--broadcasters N] [--rounds N]: webhook to overlay, against SignalR alone.
if (args is ["latency", ..])
{
    var latency = args[1..].Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    return await LatencyBenchmark.RunAsync(new LatencyBenchmark.Settings(
        Rate: latency.GetValueOrDefault("--rate", 2000),
        Clients: latency.GetValueOrDefault("--clients", 1000),
        Broadcasters: latency.GetValueOrDefault("--broadcasters", 500),
        Seconds: latency.GetValueOrDefault("--seconds", 10),
        Rounds: latency.GetValueOrDefault("--rounds", 1)));
}

// scale [--connections N] [--broadcasters N] [--rate N] [--seconds N] [--warmup N] [--rounds N] [--baseline 0|1]:
// many overlays on one relay, and a reconnect storm.
if (args is ["scale", ..])
{
    var scale = args[1..].Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    return await ScaleBenchmark.RunAsync(new ScaleBenchmark.Settings(
        Connections: scale.GetValueOrDefault("--connections", ScaleBenchmark.MaxConnections),
        Broadcasters: scale.GetValueOrDefault("--broadcasters", 1000),
        Rate: scale.GetValueOrDefault("--rate", 0),
        WarmUpSeconds: scale.GetValueOrDefault("--warmup", 5),
        Seconds: scale.GetValueOrDefault("--seconds", 20),
        Rounds: scale.GetValueOrDefault("--rounds", 1),
        Baseline: scale.GetValueOrDefault("--baseline", 1) != 0));
}

var options = BenchmarkOptions.Parse(args, Console.Error);
if (options is null)
{
    return 2;
}

// Ctrl+C stops the load and still cleans up the servers and the database directory.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    await new Benchmark(options, Console.Out).RunAsync(stop.Token);
    return 0;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("Cancelled; the servers and the database directory were removed.");
    return 130;
}
