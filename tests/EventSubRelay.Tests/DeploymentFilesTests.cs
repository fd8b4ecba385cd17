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

    [Fact]
    public void Compose_believes_forwarded_headers_only_from_its_own_pinned_network()
    {
        var compose = Read("docker-compose.yml");

        var trusted = System.Text.RegularExpressions.Regex.Match(compose, $@"^\s+{EventSubRelay.Operations.TrustedProxies.Section}__KnownNetworks: (\S+)$", System.Text.RegularExpressions.RegexOptions.Multiline);
        var subnet = System.Text.RegularExpressions.Regex.Match(compose, @"^\s+- subnet: (\S+)$", System.Text.RegularExpressions.RegexOptions.Multiline);

        trusted.Success.Should().BeTrue("the relay names the proxies' network it believes");
        subnet.Success.Should().BeTrue("the compose network's subnet is pinned");
        trusted.Groups[1].Value.Should().Be(subnet.Groups[1].Value);
    }

    [Fact]
    public void The_image_build_gets_every_file_the_relay_embeds_from_outside_its_project()
    {
        var project = Read("src/EventSubRelay/EventSubRelay.csproj");
        var dockerfile = Read("Dockerfile");
        var ignored = Read(".dockerignore").Split('\n').Select(l => l.Trim()).ToList();

        var outside = System.Text.RegularExpressions.Regex.Matches(project, "<EmbeddedResource Include=\"\\.\\./\\.\\./([^\"]+)\"")
            .Select(m => m.Groups[1].Value).ToList();

        outside.Should().Contain(["README.md", "docs/*.md"], "the relay serves its own docs");
        foreach (var file in outside)
        {
            var directory = Path.GetDirectoryName(file)!.Replace('\\', '/');
            var source = directory.Length > 0 ? directory + "/" : file;
            dockerfile.Should().MatchRegex($"(?m)^COPY {System.Text.RegularExpressions.Regex.Escape(source)} ", $"{file} is embedded, so the build needs it");
            if (directory.Length == 0 && ignored.Contains("*" + Path.GetExtension(file)))
            {
                ignored.Should().Contain("!" + file, $"{file} must reach the build context");
            }
        }
    }

    [Fact]
    public void The_dockerfile_builds_and_runs_on_exact_versions_of_the_sdk_and_runtime_the_relay_targets()
    {
        var images = System.Text.RegularExpressions.Regex.Matches(Read("Dockerfile"), @"(?m)^FROM\s+(\S+)")
            .Select(m => m.Groups[1].Value).ToList();
        var target = System.Text.RegularExpressions.Regex.Match(Read("Directory.Build.props"), @"<TargetFramework>net(\d+\.\d+)</TargetFramework>").Groups[1].Value;
        var sdk = System.Text.Json.JsonDocument.Parse(Read("global.json")).RootElement.GetProperty("sdk");

        images.Should().HaveCount(2).And.AllSatisfy(image => image.Should().MatchRegex(@"^mcr\.microsoft\.com/dotnet/(sdk|aspnet):\d+\.\d+\.\d+$",
            "a floating tag (latest, 10.0) gives a rebuild other bits than the ones tested"));
        var build = new Version(images[0].Split(':')[1]);
        var runtime = new Version(images[1].Split(':')[1]);
        images[0].Should().StartWith("mcr.microsoft.com/dotnet/sdk:");
        images[1].Should().StartWith("mcr.microsoft.com/dotnet/aspnet:");
        $"{runtime.Major}.{runtime.Minor}".Should().Be(target, "the runtime runs what the project targets");
        var wanted = new Version(sdk.GetProperty("version").GetString()!);
        (build.Major, build.Minor).Should().Be((wanted.Major, wanted.Minor), "global.json's SDK rolls forward within its major and minor only");
        build.Build.Should().BeGreaterThanOrEqualTo(wanted.Build, "global.json asks for at least this SDK");
        if (build.Build / 100 != wanted.Build / 100)
        {
            sdk.GetProperty("rollForward").GetString().Should().BeOneOf(["latestFeature", "feature", "latestMinor", "minor", "latestMajor", "major"], "the image's SDK is of a later feature band than global.json's");
        }
    }
}
