using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using EventSubRelay.Events;
using EventSubRelay.Data;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace EventSubRelay.Benchmarks.Latency;

/// <summary>
/// End-to-end latency from webhook POST to overlay client receipt at a fixed event rate with many
/// connected overlays, against a bare SignalR server sending the same envelopes at the same rate.
/// </summary>
internal static class LatencyBenchmark
{
    internal const string Secret = "benchmark-webhook-secret";

    /// <param name="Rounds">How many times the SignalR-only sender and the relay are measured, alternately, with both kept running.</param>
    public sealed record Settings(int Rate = 2000, int Clients = 1000, int Broadcasters = 500, int WarmUpSeconds = 3, int Seconds = 10, int Rounds = 1);

    public static async Task<int> RunAsync(Settings settings)
    {
        Console.WriteLine($"End-to-end latency: {settings.Rate} events/s for {settings.Seconds} s (after {settings.WarmUpSeconds} s warm-up), " +
                          $"{settings.Clients} overlay clients across {settings.Broadcasters} broadcasters, {Environment.ProcessorCount} cores, " +
                          $"{settings.Rounds} round(s) of SignalR only, relay hub, relay Streamer.bot endpoint");

        var floor = await MeasureInProcessFloorAsync(settings);
        var rounds = await MeasureSenderAndRelayAsync(settings);

        Console.WriteLine();
        Console.WriteLine($"{"path",-36} {"events",8} {"receipts",9} {"lost",6} {"p50 ms",8} {"p99 ms",8} {"max ms",8} {"receipts/s",10}");
        Console.WriteLine(floor.ToString());
        foreach (var (signalROnly, relay, streamerBot) in rounds)
        {
            Console.WriteLine(signalROnly.ToString());
            Console.WriteLine(relay.ToString());
            Console.WriteLine(streamerBot.ToString());
        }

        // Like for like: both are processes of their own receiving the same POSTs; the floor has no process boundary.
        var ratios = rounds.Select(r => r.Relay.P99 / r.SignalROnly.P99).ToList();
        Console.WriteLine($"{"relay p99 / POST -> client p99",-36} {string.Join(" ", ratios.Select(r => $"{r:0.00}x")),8}");
        if (ratios.Count > 1)
        {
            Console.WriteLine($"{"  median of the rounds",-36} {Median(ratios),8:0.00}x");
        }

        Console.WriteLine($"{"relay p99 / server -> client p99",-36} {Median(rounds.Select(r => r.Relay.P99).ToList()) / floor.P99,8:0.00}x");

        // The two endpoints of the same relay, same POSTs, same number of clients (each on broadcasters of its own).
        var endpoints = rounds.Select(r => r.StreamerBot.P99 / r.Relay.P99).ToList();
        Console.WriteLine($"{"Streamer.bot p99 / relay hub p99",-36} {string.Join(" ", endpoints.Select(r => $"{r:0.00}x")),8}");
        if (endpoints.Count > 1)
        {
            Console.WriteLine($"{"  median of the rounds",-36} {Median(endpoints),8:0.00}x");
        }

        return rounds.All(r => r.Relay.Lost == 0 && r.StreamerBot.Lost == 0) ? 0 : 1;
    }

    /// <summary>
    /// Starts the SignalR-only sender and the relay (each a process of its own, each with its own clients) and
    /// measures them alternately, so that both see the same state of a shared host.
    /// </summary>
    /// <remarks>
    /// The relay's Streamer.bot clients (as many as its hub clients) belong to broadcasters of their own, so that
    /// each of the relay's two rounds sends only to the clients it measures.
    /// </remarks>
    private static async Task<List<(Result SignalROnly, Result Relay, Result StreamerBot)>> MeasureSenderAndRelayAsync(Settings settings)
    {
        var binDirectory = LocalPostgres.FindBinDirectory() ?? throw new InvalidOperationException("PostgreSQL binaries are required.");
        var workDirectory = Path.Combine(Path.GetTempPath(), "eventsubrelay-latency", Guid.NewGuid().ToString("N"));
        var postgres = await LocalPostgres.StartAsync(binDirectory, Path.Combine(workDirectory, "postgres"), LocalPostgres.FreePort(), durable: true);
        try
        {
            // The SignalR-only sender: the bare SignalR server as a process of its own, like the relay, receiving the
            // same webhook POSTs and forwarding each to the group.
            var senderAddress = Benchmark.LoopbackAddress();
            await using var sender = ChildProcess.StartThisProgram("SignalR-only server", SignalROnlyServer.Command, Benchmark.ServerEnvironment(senderAddress), Path.Combine(workDirectory, "signalr.log"));
            await sender.WaitUntilReadyAsync(new Uri(senderAddress, "/healthz"), TimeSpan.FromSeconds(60), CancellationToken.None);
            using var senderHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = senderAddress };
            await using var senderClients = await ConnectBaselineClientsAsync(settings, senderAddress);

            // The relay on its own durable PostgreSQL (fsync on).
            await postgres.CreateDatabaseAsync("relay");
            var relayAddress = Benchmark.LoopbackAddress();
            var environment = new Dictionary<string, string>(Benchmark.ServerEnvironment(relayAddress))
            {
                ["ConnectionStrings__Postgres"] = postgres.ConnectionString("relay"),
                ["EventSub__Secret"] = Secret,
                ["Database__MigrateOnStartup"] = "true",
            };
            await using var relay = ChildProcess.Start("relay", Benchmark.RelayDll(), [], environment, Path.Combine(workDirectory, "relay.log"));
            await relay.WaitUntilReadyAsync(new Uri(relayAddress, "/readyz"), TimeSpan.FromSeconds(60), CancellationToken.None);
            var tokens = await CreateTokensAsync(postgres.ConnectionString("relay"), settings.Broadcasters);
            await using var relayClients = await ConnectAsync(settings, i => (new Uri(relayAddress, OverlayExtensions.HubPath), tokens[i % settings.Broadcasters]), subscribe: true);
            var streamerBotTokens = await CreateTokensAsync(postgres.ConnectionString("relay"), settings.Broadcasters, first: settings.Broadcasters);
            await using var streamerBotClients = await ConnectStreamerBotAsync(settings, relayAddress, streamerBotTokens);
            using var relayHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = relayAddress };

            var refused = 0;
            var metrics = new Uri(relayAddress, "/metrics");
            string[] stages = ["eventsubrelay_commit_duration", "eventsubrelay_delivery_duration"];
            var before = await Task.WhenAll(stages.Select(stage => StageHistogram.ScrapeAsync(relayHttp, metrics, stage, CancellationToken.None)));
            var rounds = new List<(Result, Result, Result)>();
            for (var round = 1; round <= settings.Rounds; round++)
            {
                var label = settings.Rounds > 1 ? $" #{round}" : "";
                var signalROnly = await DriveAsync("SignalR only: POST -> client" + label, settings, senderClients, async (broadcaster, id) =>
                {
                    using var response = await SendWebhookAsync(senderHttp, BroadcasterId(broadcaster), id);
                });
                async Task SendToRelayAsync(int broadcaster, string id)
                {
                    using var response = await SendWebhookAsync(relayHttp, BroadcasterId(broadcaster), id);
                    if (response.StatusCode != HttpStatusCode.NoContent)
                    {
                        Interlocked.Increment(ref refused);
                    }
                }

                var relayed = await DriveAsync("relay: POST /eventsub -> overlay" + label, settings, relayClients, SendToRelayAsync);
                var streamerBot = await DriveAsync("relay: POST -> /streamerbot" + label, settings, streamerBotClients,
                    (broadcaster, id) => SendToRelayAsync(settings.Broadcasters + broadcaster, id));
                rounds.Add((signalROnly, relayed, streamerBot));
            }

            // Where the relay's time goes (all its rounds, warm-ups included): the durable commit, then commit to send.
            var after = await Task.WhenAll(stages.Select(stage => StageHistogram.ScrapeAsync(relayHttp, metrics, stage, CancellationToken.None)));
            foreach (var (stage, earlier) in after.Zip(before))
            {
                Console.WriteLine(stage.Minus(earlier));
            }

            if (refused > 0)
            {
                Console.WriteLine($"relay: {refused} webhooks were not answered 204");
            }

            return rounds;
        }
        finally
        {
            await postgres.StopAsync();
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    /// <summary>
    /// The floor: the bare SignalR server inside this process sends the envelope to the group itself
    /// (no HTTP, no process boundary between sender and clients).
    /// </summary>
    private static async Task<Result> MeasureInProcessFloorAsync(Settings settings)
    {
        await using var app = SignalROnlyServer.Build([], $"http://127.0.0.1:{LocalPostgres.FreePort()}");
        await app.StartAsync();
        var address = new Uri(app.Urls.First());
        var hub = app.Services.GetRequiredService<IHubContext<SignalROnlyServer.BaselineHub>>();
        var data = FollowNotifications.Event(100_001, follower: 1234);
        await using var clients = await ConnectBaselineClientsAsync(settings, address);
        return await DriveAsync("SignalR only: server -> client", settings, clients, (broadcaster, id) =>
            SignalROnlyServer.SendAsync(hub, BroadcasterId(broadcaster), id, data));
    }

    private static Task<Clients> ConnectBaselineClientsAsync(Settings settings, Uri address) =>
        ConnectAsync(settings, i => (new Uri(address, SignalROnlyServer.HubPath), BroadcasterId(i % settings.Broadcasters)), subscribe: false);

    /// <summary>Sends events at the fixed rate, round-robin over broadcasters, and collects receipt latencies.</summary>
    private static async Task<Result> DriveAsync(string name, Settings settings, Clients clients, Func<int, string, Task> send)
    {
        var sentAt = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var latencies = new ConcurrentBag<double>();
        var measuring = 0;
        foreach (var client in clients.All)
        {
            client.Received = id =>
            {
                if (Volatile.Read(ref measuring) == 1 && sentAt.TryGetValue(id, out var start))
                {
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            };
        }

        var tick = TimeSpan.FromMilliseconds(10);
        var perTick = settings.Rate / 100;
        var pending = new ConcurrentBag<Task>();
        var sentMeasured = 0;
        var broadcaster = 0;
        using var timer = new PeriodicTimer(tick);
        var total = (settings.WarmUpSeconds + settings.Seconds) * 100;
        for (var t = 0; t < total && await timer.WaitForNextTickAsync(); t++)
        {
            if (t == settings.WarmUpSeconds * 100)
            {
                Volatile.Write(ref measuring, 1);
            }

            for (var i = 0; i < perTick; i++)
            {
                var id = Guid.NewGuid().ToString();
                var target = broadcaster++ % settings.Broadcasters;
                if (Volatile.Read(ref measuring) == 1)
                {
                    sentAt[id] = Stopwatch.GetTimestamp();
                    sentMeasured++;
                }

                pending.Add(send(target, id));
            }
        }

        await Task.WhenAll(pending);
        // Let the last events arrive (bounded), then stop counting.
        var expected = sentMeasured * (settings.Clients / settings.Broadcasters);
        var deadline = Stopwatch.StartNew();
        while (latencies.Count < expected && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Volatile.Write(ref measuring, 0);
        var sorted = latencies.Order().ToArray();
        return new Result(name, sentMeasured, sorted.Length, expected - sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.LastOrDefault(), sorted.Length / (double)settings.Seconds);
    }

    private static async Task<Clients> ConnectAsync(Settings settings, Func<int, (Uri Url, string Token)> target, bool subscribe)
    {
        var clients = new List<Client>(settings.Clients);
        for (var i = 0; i < settings.Clients; i += 50)
        {
            var batch = Enumerable.Range(i, Math.Min(50, settings.Clients - i)).Select(async n =>
            {
                var (url, token) = target(n);
                var connection = new HubConnectionBuilder()
                    .WithUrl(subscribe ? url : new Uri(url + "?broadcaster=" + token), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
                    .Build();
                var client = new Client { CloseAsync = connection.DisposeAsync };
                connection.On<OverlayEnvelope>(OverlayClientMethods.Event, e => client.Received(e.Id));
                await connection.StartAsync();
                if (subscribe)
                {
                    await connection.InvokeAsync<string[]>("Subscribe", new[] { "*" });
                }

                return client;
            });
            clients.AddRange(await Task.WhenAll(batch));
        }

        return new Clients(clients);
    }

    /// <summary>Streamer.bot widgets on the relay, two per broadcaster like the hub's clients (token <c>i % broadcasters</c>).</summary>
    private static async Task<Clients> ConnectStreamerBotAsync(Settings settings, Uri relay, string[] tokens)
    {
        var clients = new List<Client>(settings.Clients);
        for (var i = 0; i < settings.Clients; i += 50)
        {
            var batch = Enumerable.Range(i, Math.Min(50, settings.Clients - i)).Select(async n =>
            {
                var client = new Client();
                var socket = await StreamerBotClient.ConnectAsync(relay, tokens[n % settings.Broadcasters], id => client.Received(id));
                client.CloseAsync = socket.DisposeAsync;
                return client;
            });
            clients.AddRange(await Task.WhenAll(batch));
        }

        return new Clients(clients);
    }

    /// <summary>One token each for the broadcasters <paramref name="first"/> to <paramref name="first"/> + <paramref name="broadcasters"/> - 1.</summary>
    internal static async Task<string[]> CreateTokensAsync(string connectionString, int broadcasters, int first = 0)
    {
        var options = new DbContextOptionsBuilder<RelayDbContext>().UseNpgsql(connectionString).Options;
        await using var db = new RelayDbContext(options);
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
        var tokens = new OverlayTokens(db, new OverlayTokenCache(dataSource), TimeProvider.System);
        var secrets = new string[broadcasters];
        for (var i = 0; i < broadcasters; i++)
        {
            secrets[i] = (await tokens.CreateAsync(BroadcasterId(first + i), "benchmark", CancellationToken.None)).Secret;
        }

        return secrets;
    }

    private static readonly FollowNotifications Notifications = new(Secret);

    internal static Task<HttpResponseMessage> SendWebhookAsync(HttpClient http, string broadcaster, string messageId) =>
        http.SendAsync(Notifications.Create(new Uri(http.BaseAddress!, "/eventsub"), long.Parse(broadcaster, CultureInfo.InvariantCulture), follower: 1234, messageId));

    internal static string BroadcasterId(int index) => (100_000 + index).ToString(CultureInfo.InvariantCulture);

    private static double Median(IReadOnlyList<double> values) => Percentile([.. values.Order()], 0.5);

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>One overlay client: a SignalR connection or a Streamer.bot socket, whose receipts go to <see cref="Received"/>.</summary>
    private sealed class Client
    {
        public Func<ValueTask> CloseAsync { get; set; } = () => ValueTask.CompletedTask;
        public Action<string> Received { get; set; } = _ => { };
    }

    /// <summary>The connected clients of one path; disposing them disconnects them all.</summary>
    private sealed class Clients(IReadOnlyList<Client> all) : IAsyncDisposable
    {
        public IReadOnlyList<Client> All { get; } = all;

        public async ValueTask DisposeAsync() => await Task.WhenAll(All.Select(c => c.CloseAsync().AsTask()));
    }

    private sealed record Result(string Name, int Events, int Receipts, int Lost, double P50, double P99, double Max, double ReceiptsPerSecond)
    {
        public override string ToString() => $"{Name,-36} {Events,8} {Receipts,9} {Lost,6} {P50,8:0.0} {P99,8:0.0} {Max,8:0.0} {ReceiptsPerSecond,10:N0}";
    }
}
