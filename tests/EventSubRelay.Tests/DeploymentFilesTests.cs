namespace EventSubRelay.Tests;

/// <summary>What the Dockerfile, the compose file and the ignore files promise operators.</summary>
public sealed class DeploymentFilesTests
{
    private static string Read(string name) => Repository.ReadFile(name);

    [Fact]
    public void The_dockerfile_needs_no_frontend_image()
    {
        Read("Dockerfile").Should().NotContain("# syntax=", "BuildKit would pull a frontend image that nothing needs");
    }

    [Fact]
    public void The_env_file_with_its_secrets_is_neither_committed_nor_sent_to_the_image_build()
    {
        Read(".gitignore").Split('\n').Select(l => l.Trim()).Should().Contain(".env");
        Read(".dockerignore").Split('\n').Select(l => l.Trim()).Should().Contain(".env");
    }

    [Fact]
    public void Compose_publishes_the_relay_on_loopback_and_rotates_every_services_log()
    {
        var compose = Read("docker-compose.yml");

        compose.Should().Contain("\"127.0.0.1:8080:8080\"").And.NotContain("- \"8080:8080\"");
        compose.Should().Contain("max-size:").And.Contain("max-file:");
        System.Text.RegularExpressions.Regex.Matches(compose, @"^    logging:", System.Text.RegularExpressions.RegexOptions.Multiline).Should().HaveCount(2, "both services rotate their logs");
    }
}
