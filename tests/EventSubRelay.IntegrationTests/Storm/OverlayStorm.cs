using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSubRelay.Overlay;
using Npgsql;

namespace EventSubRelay.IntegrationTests.Storm;

/// <summary>
/// Many overlay clients connecting and subscribing to everything at the same moment, each an official
/// <c>@microsoft/signalr</c> client in one Node process (<c>overlay-storm.js</c>), recording what each receives.
/// </summary>
public sealed class OverlayStorm : IAsyncDisposable
{
    private readonly Process _node;
    private readonly TaskCompletionSource<(int Subscribed, int Failed)> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _errors = new();

    private OverlayStorm(Process node, IReadOnlyList<StormClient> clients)
    {
        _node = node;
        Clients = clients;
    }

    public IReadOnlyList<StormClient> Clients { get; }

    /// <summary>Every event each client received (index of <see cref="Clients"/>), with its arrival in Unix milliseconds.</summary>
    public ConcurrentQueue<(int Client, string Id, long Seq, long At)> Received { get; } = new();

    /// <summary>Starts every client at once; <see cref="Ready"/> completes when all have subscribed or failed.</summary>
    public static async Task<OverlayStorm> StartAsync(IReadOnlyList<StormClient> clients)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Storm", "overlay-storm.js");
        var start = new ProcessStartInfo("node", [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["NODE_PATH"] = Path.Combine(RepositoryRoot(), "src", "EventSubRelay", "ClientApp", "node_modules");
        var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var storm = new OverlayStorm(node, clients);
        node.OutputDataReceived += (_, line) => storm.Read(line.Data);
        node.ErrorDataReceived += (_, line) => { if (line.Data is { } error) storm._errors.Enqueue(error); };
        node.BeginOutputReadLine();
        node.BeginErrorReadLine();
        var input = new JsonObject
        {
            ["clients"] = new JsonArray([.. clients.Select(c => (JsonNode)new JsonObject { ["url"] = c.Url.ToString(), ["token"] = c.Token })]),
        };
        await node.StandardInput.WriteLineAsync(input.ToJsonString());
        await node.StandardInput.FlushAsync();
        return storm;
    }

    /// <summary>How many clients subscribed and how many failed, once all have finished trying.</summary>
    public async Task<(int Subscribed, int Failed)> Ready(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_ready.Task, Task.Delay(timeout), _node.WaitForExitAsync());
        return finished == _ready.Task
            ? await _ready.Task
            : throw new TimeoutException($"The overlay clients did not finish subscribing in {timeout}: {string.Join(Environment.NewLine, _errors)}");
    }

    /// <summary>When each client's <c>Subscribe</c> returned (Unix milliseconds), for those that have.</summary>
    public ConcurrentDictionary<int, long> SubscribedAt { get; } = new();

    public string Errors => string.Join(Environment.NewLine, _errors);

    /// <summary>Waits until every client in <paramref name="expected"/> has received the event, or the timeout passes.</summary>
    public async Task WaitForAsync(IReadOnlyCollection<(int Client, string Id)> expected, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            var received = Received.Select(r => (r.Client, r.Id)).ToHashSet();
            if (expected.All(received.Contains))
            {
                return;
            }

            await Task.Delay(50);
        }
    }

    private void Read(string? line)
    {
        if (string.IsNullOrEmpty(line))
        {
            return;
        }

        var message = JsonNode.Parse(line)!.AsObject();
        if (message.ContainsKey("subscribed"))
        {
            _ready.TrySetResult(((int)message["subscribed"]!, (int)message["failed"]!));
        }
        else if (message.ContainsKey("s"))
        {
            SubscribedAt[(int)message["s"]!] = (long)message["at"]!;
        }
        else
        {
            Received.Enqueue(((int)message["c"]!, (string)message["id"]!, (long)message["seq"]!, (long)message["at"]!));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_node.HasExited)
        {
            _node.StandardInput.Close();
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _node.WaitForExitAsync(stopping.Token);
            }
            catch (OperationCanceledException)
            {
                _node.Kill(entireProcessTree: true);
            }
        }

        _node.Dispose();
    }

    /// <summary>Stores active overlay tokens straight in the relay's database, one a client, as the relay stores them.</summary>
    /// <remarks>With <paramref name="afterSeq"/>, each client resumes after it (<c>?afterSeq=</c>) and is replayed what it missed.</remarks>
    public static async Task<IReadOnlyList<StormClient>> CreateClientsAsync(
        string connectionString, IReadOnlyList<Uri> relays, IReadOnlyList<string> broadcasters, int perBroadcaster, long? afterSeq = null)
    {
        var clients = new List<StormClient>();
        var path = OverlayExtensions.HubPath + (afterSeq is { } seq ? $"?afterSeq={seq}" : "");
        foreach (var broadcaster in broadcasters)
        {
            for (var i = 0; i < perBroadcaster; i++)
            {
                var token = "esr_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
                clients.Add(new StormClient(new Uri(relays[clients.Count % relays.Count], path), broadcaster, token));
            }
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO overlay_tokens (id, broadcaster_user_id, name, token_hash, created_at)
            SELECT gen_random_uuid(), b, 'storm', h, now() FROM unnest(@broadcasters, @hashes) AS t(b, h)
            """, connection);
        command.Parameters.AddWithValue("broadcasters", clients.Select(c => c.BroadcasterUserId).ToArray());
        command.Parameters.AddWithValue("hashes", clients.Select(c => SHA256.HashData(Encoding.UTF8.GetBytes(c.Token))).ToArray());
        await command.ExecuteNonQueryAsync();
        return clients;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (Directory.Exists(Path.Combine(directory.FullName, "src", "EventSubRelay", "ClientApp")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with src/EventSubRelay/ClientApp) was not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>One overlay client of a storm: the hub it connects to and its token.</summary>
public sealed record StormClient(Uri Url, string BroadcasterUserId, string Token);

/// <summary>Samples how many connections an application name holds open on the server, as often as it can.</summary>
public sealed class ConnectionSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public ConnectionSampler(string connectionString, string applicationNamePrefix)
    {
        _sampling = Task.Run(async () =>
        {
            var settings = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "storm-sampler", Pooling = false };
            await using var connection = new NpgsqlConnection(settings.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE @prefix || '%'", connection);
            command.Parameters.AddWithValue("prefix", applicationNamePrefix);
            while (!_stop.IsCancellationRequested)
            {
                var count = (long)(await command.ExecuteScalarAsync())!;
                Max = Math.Max(Max, count);
                Samples++;
                await Task.Delay(20);
            }
        });
    }

    public long Max { get; private set; }

    public int Samples { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
    }
}
