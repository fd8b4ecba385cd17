using EventSubRelay.Benchmarks;

// The bare Kestrel baseline runs as a child process of this same program.
if (args is [BareServer.Command, ..])
{
    await BareServer.RunAsync(args[1..]);
    return 0;
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
