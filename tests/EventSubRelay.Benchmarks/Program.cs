using EventSubRelay.Benchmarks.Latency;

// dotnet run -c Release --project tests/EventSubRelay.Benchmarks -- latency [--seconds N] [--rate N] [--clients N] [--broadcasters N]
var options = args.Skip(1).Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
var settings = new LatencyBenchmark.Settings(
    Rate: options.GetValueOrDefault("--rate", 2000),
    Clients: options.GetValueOrDefault("--clients", 1000),
    Broadcasters: options.GetValueOrDefault("--broadcasters", 500),
    Seconds: options.GetValueOrDefault("--seconds", 10));
return await LatencyBenchmark.RunAsync(settings);
