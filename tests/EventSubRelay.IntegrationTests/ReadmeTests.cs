using System.Diagnostics;
using System.Text.RegularExpressions;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary>What the README tells people to run, run as written.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public async Task The_hand_signed_webhook_snippet_posts_a_follow_that_reaches_the_overlay()
    {
        var snippet = SignedWebhookSnippet();
        await using var factory = await RelayFactory.StartAsync();
        await using var overlay = await factory.SubscribedOverlayAsync("12345", "Follow");

        var (exitCode, output) = await RunBashAsync(snippet, new() { ["RELAY"] = factory.BaseAddress.ToString().TrimEnd('/'), ["SECRET"] = TwitchWebhook.Secret });

        exitCode.Should().Be(0, output);
        output.Trim().Should().Be("204", "the snippet prints the status the relay answered");
        var follow = await overlay.NextAsync(TimeSpan.FromSeconds(10));
        follow.Event.Type.Should().Be("Follow");
        follow.Data.GetProperty("userName").GetString().Should().Be("new_follower");
        (await Database.CountAsync(factory.ConnectionString, "SELECT count(*) FROM notifications WHERE subscription_type = 'channel.follow' AND broadcaster_user_id = '12345'"))
            .Should().Be(1, "it was stored");
    }

    /// <summary>The shell block that follows the <c>signed-webhook</c> marker in the README.</summary>
    private static string SignedWebhookSnippet()
    {
        var readme = File.ReadAllText(Path.Combine(Golden.GoldenCase.Directory, "..", "..", "..", "..", "README.md"));
        var match = SnippetAfterMarker().Match(readme);
        match.Success.Should().BeTrue("the README has a ```sh block right after <!-- signed-webhook -->");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"<!-- signed-webhook -->\s*```sh\n(.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex SnippetAfterMarker();

    private static async Task<(int ExitCode, string Output)> RunBashAsync(string script, Dictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo("bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add("-euo");
        startInfo.ArgumentList.Add("pipefail");
        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        using var process = Process.Start(startInfo)!;
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
