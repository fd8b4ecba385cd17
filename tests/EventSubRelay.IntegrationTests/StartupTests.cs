using System.Text.RegularExpressions;
using EventSubRelay.Data;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary>The relay executable's start-up checks and commands, run as a process.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Production_without_a_connection_string_exits_naming_the_setting()
    {
        var (exitCode, output) = await RelayProcess.RunCommandAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["EventSub__Secret"] = TwitchWebhook.Secret,
        });

        exitCode.Should().NotBe(0);
        output.Should().Contain("ConnectionStrings:Postgres");
    }

    [Fact]
    public async Task Production_with_a_too_short_secret_exits_naming_the_setting()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var environment = RelayProcess.Environment(connectionString);
        environment["EventSub__Secret"] = "short";
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{LocalPostgres.FreePort()}";

        var (exitCode, output) = await RelayProcess.RunCommandAsync(environment);

        exitCode.Should().NotBe(0);
        output.Should().Contain("EventSub:Secret must be 10 to 100 characters long");
    }

    [Fact]
    public async Task Development_without_database_or_postgres_binaries_exits_naming_both_fixes()
    {
        var (exitCode, output) = await RelayProcess.RunCommandAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["PATH"] = "/usr/bin:/bin",
            ["LocalPostgres__SearchRoot"] = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")),
        });

        exitCode.Should().NotBe(0);
        output.Should().Contain("docker compose up").And.Contain("ConnectionStrings:Postgres");
    }

    [Fact]
    public async Task Migrate_command_creates_the_schema_and_exits()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var environment = RelayProcess.Environment(connectionString);
        environment["Database__MigrateOnStartup"] = "false";

        var (exitCode, output) = await RelayProcess.RunCommandAsync(environment, "migrate");

        exitCode.Should().Be(0, output);
        (await Database.CountAsync(connectionString, "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('notifications', 'overlay_events', 'overlay_tokens')"))
            .Should().Be(3);
    }

    [Fact]
    public async Task Production_with_a_placeholder_client_id_exits_naming_the_setting()
    {
        var environment = RelayProcess.Environment(await (await PostgresServer.Shared).CreateDatabaseAsync());
        environment["Twitch__ClientId"] = "...";
        environment["Twitch__ClientSecret"] = "...";
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{LocalPostgres.FreePort()}";

        var (exitCode, output) = await RelayProcess.RunCommandAsync(environment);

        exitCode.Should().NotBe(0);
        output.Should().Contain("Twitch:ClientId (environment: Twitch__ClientId, compose: TWITCH_CLIENT_ID) is not a Twitch client id")
            .And.Contain("Twitch:ClientSecret");
    }

    [Fact]
    public async Task Overlay_token_create_looks_a_login_up_on_twitch_and_prints_the_overlay_url()
    {
        await using var twitch = await FakeTwitch.FakeTwitchServer.StartAsync();
        var user = twitch.AddUser();
        var environment = RelayProcess.Environment(await (await PostgresServer.Shared).CreateDatabaseAsync());
        foreach (var (key, value) in twitch.RelaySettings(new Uri("https://relay.example.com")))
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        }

        var (created, output) = await RelayProcess.RunCommandAsync(environment, "overlay-token", "create", "--login", user.Login.ToUpperInvariant(), "--name", "alerts");
        var (unknown, unknownOutput) = await RelayProcess.RunCommandAsync(environment, "overlay-token", "create", "--login", "nobody_here");
        var (invalid, invalidOutput) = await RelayProcess.RunCommandAsync(environment, "overlay-token", "create", "--login", "not a login");

        created.Should().Be(0, output);
        output.Should().Contain($"for broadcaster {user.Id}.");
        var secret = Regex.Match(output, "esr_[A-Za-z0-9_-]{43}").Value;
        output.Should().Contain($"https://relay.example.com/overlay#token={secret}");
        twitch.Requests.Should().Contain(r => r.StartsWith("GET /helix/users", StringComparison.Ordinal));
        (unknown, invalid).Should().Be((1, 1));
        unknownOutput.Should().Contain("Twitch has no user with the login 'nobody_here'.");
        invalidOutput.Should().Contain("is not a Twitch login");
    }

    [Fact]
    public async Task Overlay_token_create_with_a_login_but_no_twitch_app_says_what_to_set_instead()
    {
        var environment = RelayProcess.Environment(await (await PostgresServer.Shared).CreateDatabaseAsync());
        environment["ASPNETCORE_URLS"] = "http://+:5123";

        var (failed, failure) = await RelayProcess.RunCommandAsync(environment, "overlay-token", "create", "--login", "cool_streamer");
        var (created, output) = await RelayProcess.RunCommandAsync(environment, "overlay-token", "create", "--broadcaster", TwitchWebhook.NewBroadcasterId());

        failed.Should().Be(1);
        failure.Should().Contain("--login needs a Twitch application").And.Contain("Twitch__ClientId").And.Contain("--broadcaster <user id>");
        created.Should().Be(0, output);
        output.Should().MatchRegex(@"http://localhost:5123/overlay#token=esr_[A-Za-z0-9_-]{43}");
    }

    [Fact]
    public async Task Healthcheck_command_succeeds_against_a_running_relay_and_fails_without_one()
    {
        var environment = RelayProcess.Environment(await (await PostgresServer.Shared).CreateDatabaseAsync());
        var port = LocalPostgres.FreePort();
        await using var relay = await RelayProcess.StartAsync(environment, port);

        var (healthy, _) = await RelayProcess.RunCommandAsync(new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) }, "healthcheck");
        await relay.KillAsync();
        var (unhealthy, _) = await RelayProcess.RunCommandAsync(new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) }, "healthcheck");

        healthy.Should().Be(0);
        unhealthy.Should().Be(1);
    }
}
