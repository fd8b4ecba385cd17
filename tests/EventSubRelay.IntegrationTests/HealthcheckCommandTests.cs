using System.Globalization;
using EventSubRelay.Data;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// <c>EventSubRelay healthcheck</c> (the container health check) looks for the relay where the same settings make
/// Kestrel listen, whichever of them says it.
/// </summary>
public sealed class HealthcheckCommandTests
{
    [Theory]
    [InlineData("ASPNETCORE_URLS", "http://127.0.0.1:{0}")]
    [InlineData("ASPNETCORE_URLS", "http://+:{0}")]
    [InlineData("Kestrel__Endpoints__Http__Url", "http://localhost:{0}")]
    public async Task A_relay_listening_where_the_settings_say_is_healthy_and_once_stopped_is_not(string variable, string url)
    {
        var port = LocalPostgres.FreePort();
        var environment = RelayProcess.Environment(await (await PostgresServer.Shared).CreateDatabaseAsync());
        environment[variable] = string.Format(CultureInfo.InvariantCulture, url, port);
        // As in the image: the port setting is there too, and loses to the others as it does in Kestrel.
        environment["ASPNETCORE_HTTP_PORTS"] = LocalPostgres.FreePort().ToString(CultureInfo.InvariantCulture);
        await using var relay = await RelayProcess.StartAsync(environment, port, variable == "ASPNETCORE_URLS" ? environment[variable] : null);

        var (healthy, healthyOutput) = await RelayProcess.RunCommandAsync(environment, "healthcheck");
        await relay.KillAsync();
        var (stopped, stoppedOutput) = await RelayProcess.RunCommandAsync(environment, "healthcheck");

        healthy.Should().Be(0, healthyOutput);
        stopped.Should().NotBe(0);
        stoppedOutput.Should().MatchRegex($"(localhost|127\\.0\\.0\\.1):{port}", "the probe says where it looked");
    }

    [Fact]
    public async Task Help_lists_the_healthcheck_command()
    {
        var environment = RelayProcess.Environment(await (await PostgresServer.Shared).CreateDatabaseAsync());

        var (exitCode, output) = await RelayProcess.RunCommandAsync(environment, "--help");

        exitCode.Should().Be(0, output);
        output.Should().Contain("EventSubRelay healthcheck");
    }
}
