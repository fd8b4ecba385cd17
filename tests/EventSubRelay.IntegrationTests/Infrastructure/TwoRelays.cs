namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>Two relay processes sharing one new PostgreSQL database and a redis-server of their own, as a scaled-out deployment runs.</summary>
public class TwoRelays : IAsyncLifetime
{
    private RelayProcess? _a;
    private RelayProcess? _b;
    private RedisServer? _redis;

    public RelayProcess A => _a!;

    public RelayProcess B => _b!;

    /// <summary>Stopped and started again by the outage tests.</summary>
    public RedisServer Redis => _redis!;

    public Dictionary<string, string> Environment { get; private set; } = null!;

    public string ConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        try
        {
            _redis = await RedisServer.StartAsync();
            ConnectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
            Environment = RelayProcess.Environment(ConnectionString, new Dictionary<string, string> { ["SignalR__Redis"] = _redis.ConnectionString });
            _a = await RelayProcess.StartAsync(Environment);
            _b = await RelayProcess.StartAsync(Environment);
        }
        catch
        {
            // xunit does not dispose a fixture whose initialisation failed: leave no process behind.
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var relay in new[] { _a, _b })
        {
            if (relay is not null)
            {
                await relay.DisposeAsync();
            }
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
