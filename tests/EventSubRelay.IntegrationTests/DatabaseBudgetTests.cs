using EventSubRelay.IntegrationTests.Infrastructure;
using Npgsql;

namespace EventSubRelay.IntegrationTests;

public sealed class DatabaseBudgetTests
{
    [Fact]
    public async Task A_budget_larger_than_the_server_allows_is_warned_about_at_start_up()
    {
        // The test server runs PostgreSQL's stock max_connections = 100.
        await using var relay = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["Database:MaxConnections"] = "150" });

        var warning = await WaitForLogAsync(relay, "does not fit in the server's max_connections");

        warning.Should().Contain("max_connections = 100").And.Contain("150");
    }

    [Fact]
    public async Task A_budget_that_fits_is_not_warned_about()
    {
        await using var relay = await RelayFactory.StartAsync();

        await WaitForLogAsync(relay, "Database budget: 20 connections");
        (await Database.CountAsync(new NpgsqlConnectionStringBuilder(relay.ConnectionString) { Database = "postgres" }.ConnectionString, "SELECT current_setting('max_connections')::bigint"))
            .Should().Be(100, "tests run PostgreSQL's stock settings");
        relay.Logs.Rendered().Should().NotContain(l => l.Contains("does not fit in the server's max_connections"));
    }

    private static async Task<string> WaitForLogAsync(RelayFactory relay, string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            if (relay.Logs.Rendered().FirstOrDefault(l => l.Contains(text)) is { } line)
            {
                return line;
            }

            await Task.Delay(50, timeout.Token);
        }
    }
}
