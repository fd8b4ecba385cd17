using System.Text.RegularExpressions;

namespace EventSubRelay.Tests;

/// <summary>What the Dockerfile, compose files and ignore files must keep true for a safe deployment.</summary>
public sealed partial class DeploymentFilesTests
{
    private static string Read(string name) => File.ReadAllText(Path.Combine(EventTypesTests.RepositoryRoot(), name));

    [Fact]
    public void Dockerfile_needs_no_frontend_image_and_pins_its_base_images()
    {
        var dockerfile = Read("Dockerfile");

        dockerfile.Should().NotContain("# syntax=");
        var bases = FromLine().Matches(dockerfile).Select(m => m.Groups[1].Value).ToList();
        bases.Should().HaveCount(2);
        bases.Should().AllSatisfy(image => image.Should().MatchRegex(@"^mcr\.microsoft\.com/dotnet/(sdk|aspnet):10\.0\.\d+$"));
    }

    [Fact]
    public void Env_file_with_secrets_is_neither_committed_nor_sent_to_the_docker_build()
    {
        Read(".gitignore").Split('\n').Select(l => l.Trim()).Should().Contain(".env");
        Read(".dockerignore").Split('\n').Select(l => l.Trim()).Should().Contain(".env");
    }

    [Fact]
    public void Compose_publishes_the_relay_on_loopback_only_rotates_logs_and_has_a_certificate_override()
    {
        var compose = Read("docker-compose.yml");

        PublishedPort().Matches(compose).Select(m => m.Groups[1].Value).Should().Equal("127.0.0.1:8080:8080");
        compose.Should().Contain("driver: json-file").And.Contain("max-size:").And.Contain("max-file:");
        Regex.Matches(compose, @"^\s+logging: \*logging$", RegexOptions.Multiline).Should().HaveCount(2, "both services rotate their logs");
        Read("docker-compose.certificate.yml").Should().Contain("DataProtection__CertificatePath").And.Contain("DataProtection__CertificatePassword");
    }

    [GeneratedRegex(@"^FROM\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex FromLine();

    [GeneratedRegex(@"^\s+-\s+""([^""]*:\d+)""\s*$", RegexOptions.Multiline)]
    private static partial Regex PublishedPort();
}
