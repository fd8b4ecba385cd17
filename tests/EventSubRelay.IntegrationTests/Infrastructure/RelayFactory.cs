using System.Collections.Concurrent;
using System.Threading.Channels;
using EventSubRelay.Events;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>The relay on a real Kestrel port with its own fresh PostgreSQL database.</summary>
public sealed class RelayFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly Action<IWebHostBuilder>? _configure;

    private RelayFactory(string connectionString, IDictionary<string, string?>? settings, Action<IServiceCollection>? services, int port, Action<IWebHostBuilder>? configure)
    {
        _services = services;
        _configure = configure;
        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["EventSub:Secret"] = TwitchWebhook.Secret,
            ["Database:MigrateOnStartup"] = "true",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        ConnectionString = connectionString;
        this.UseKestrel(port);
    }

    public string ConnectionString { get; }

    /// <summary>Every log event the relay wrote, rendered, for checks on what logs may contain.</summary>
    public CapturedLogs Logs { get; } = new();

    public Uri BaseAddress => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>Starts a relay on a new database of the shared test server.</summary>
    public static async Task<RelayFactory> StartAsync(
        IDictionary<string, string?>? settings = null,
        PostgresServer? server = null,
        string? connectionString = null,
        Action<IServiceCollection>? services = null,
        int port = 0,
        Action<IWebHostBuilder>? configure = null)
    {
        if (connectionString is null)
        {
            server ??= await PostgresServer.Shared;
            connectionString = await server.CreateDatabaseAsync();
        }

        var factory = new RelayFactory(connectionString, settings, services, port, configure);
        factory.StartServer();
        return factory;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.AddSingleton<ILogEventSink>(Logs);
            _services?.Invoke(services);
        });
        _configure?.Invoke(builder);
    }

    /// <summary>A free loopback port, for a relay that must know its own URL before it starts (Twitch's callback).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public HttpClient CreateRelayClient() => new() { BaseAddress = BaseAddress };

    /// <summary>Sends a signed notification for the broadcaster and returns its message id once it is acknowledged.</summary>
    public async Task<string> SendNotificationAsync(string broadcasterUserId, string type = "channel.follow", string version = "2", System.Text.Json.Nodes.JsonObject? @event = null)
    {
        using var client = CreateRelayClient();
        var messageId = TwitchWebhook.NewMessageId();
        using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcasterUserId, type, version, @event), messageId: messageId));
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.NoContent);
        return messageId;
    }

    public async Task<string> CreateOverlayTokenAsync(string broadcasterUserId, string name = "test")
    {
        await using var scope = Services.CreateAsyncScope();
        var (_, secret) = await scope.ServiceProvider.GetRequiredService<OverlayTokens>().CreateAsync(broadcasterUserId, name, CancellationToken.None);
        return secret;
    }

    /// <summary>A started SignalR client for this relay's overlay hub that records the events it receives.</summary>
    public Task<OverlayClient> ConnectOverlayAsync(string token, long? afterSeq = null, bool messagePack = false) =>
        OverlayClient.ConnectAsync(BaseAddress, token, afterSeq, messagePack);
}

/// <summary>An overlay connection and the envelopes it has received, in order.</summary>
public sealed class OverlayClient : IAsyncDisposable
{
    private readonly Channel<OverlayEnvelope> _received = Channel.CreateUnbounded<OverlayEnvelope>();

    /// <summary>A started SignalR client for the overlay hub of the relay at <paramref name="baseAddress"/>.</summary>
    public static async Task<OverlayClient> ConnectAsync(Uri baseAddress, string token, long? afterSeq = null, bool messagePack = false)
    {
        var url = new Uri(baseAddress, OverlayExtensions.HubPath + (afterSeq is { } seq ? $"?afterSeq={seq}" : ""));
        var builder = new HubConnectionBuilder()
            .WithUrl(url, options => options.AccessTokenProvider = () => Task.FromResult<string?>(token));
        if (messagePack)
        {
            builder.AddMessagePackProtocol(options => options.SerializerOptions = options.SerializerOptions.WithResolver(
                MessagePack.Resolvers.CompositeResolver.Create([JsonElementMessagePackFormatter.Instance], [MessagePack.Resolvers.ContractlessStandardResolver.Instance])));
        }

        var connection = builder.Build();
        var client = new OverlayClient(connection) { Token = token };
        await connection.StartAsync();
        return client;
    }

    public OverlayClient(HubConnection connection)
    {
        Connection = connection;
        connection.On<OverlayEnvelope>(OverlayClientMethods.Event, envelope =>
        {
            All.Enqueue(envelope);
            _received.Writer.TryWrite(envelope);
        });
    }

    public HubConnection Connection { get; }

    /// <summary>The overlay token this client connected with.</summary>
    public string Token { get; private init; } = "";

    public ConcurrentQueue<OverlayEnvelope> All { get; } = new();

    public Task<string[]> SubscribeAsync(params string[] types) => Connection.InvokeAsync<string[]>("Subscribe", types);

    public Task<string[]> UnsubscribeAsync(params string[] types) => Connection.InvokeAsync<string[]>("Unsubscribe", types);

    /// <summary>The next envelope, or an exception if none arrives in time.</summary>
    public async Task<OverlayEnvelope> NextAsync(TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await _received.Reader.ReadAsync(cancellation.Token);
    }

    /// <summary>Waits until <paramref name="count"/> envelopes have arrived in all.</summary>
    public Task<IReadOnlyList<OverlayEnvelope>> WaitForAsync(int count, TimeSpan? timeout = null) => WaitForAsync(received => received.Count >= count, timeout);

    /// <summary>Waits until what has been received meets <paramref name="enough"/>, and returns all of it.</summary>
    public async Task<IReadOnlyList<OverlayEnvelope>> WaitForAsync(Func<IReadOnlyList<OverlayEnvelope>, bool> enough, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (!enough([.. All]))
        {
            await _received.Reader.WaitToReadAsync(cancellation.Token);
            while (_received.Reader.TryRead(out _))
            {
            }
        }

        return [.. All];
    }

    /// <summary>
    /// Proves nothing else arrives: a marker event sent after the others is delivered on the same
    /// ordered connection, so anything sent before it has arrived by then.
    /// </summary>
    public async Task<IReadOnlyList<OverlayEnvelope>> ReceivedBeforeAsync(string markerId, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (!All.Any(e => e.Id == markerId))
        {
            await _received.Reader.WaitToReadAsync(cancellation.Token);
            while (_received.Reader.TryRead(out _))
            {
            }
        }

        return [.. All.TakeWhile(e => e.Id != markerId)];
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}

/// <summary>A Serilog sink that keeps what the relay logged.</summary>
public sealed class CapturedLogs : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => [.. _events];

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    /// <summary>Each event rendered with all its properties, as a log store would keep it.</summary>
    public IEnumerable<string> Rendered() => _events.Select(e =>
        e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture) + " " +
        string.Join(" ", e.Properties.Select(p => $"{p.Key}={p.Value}")) + " " + e.Exception);
}
