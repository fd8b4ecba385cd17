namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>One relay shared by the tests of a class (each test still makes its own ids).</summary>
public class RelayFixture : IAsyncLifetime
{
    public RelayFactory Factory { get; private set; } = null!;

    /// <summary>Settings that differ from the test defaults.</summary>
    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync() => Factory = await RelayFactory.StartAsync(Settings);

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}
