using System.Text.RegularExpressions;
using EventSubRelay.Commands;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// The <c>overlay-token</c> commands, run one after another on one relay's services in this process:
/// what each prints and its exit code. That the executable dispatches to them is checked by <see cref="StartupTests"/>,
/// which runs it as a process.
/// </summary>
public sealed class OverlayTokenCommandTests
{
    [Fact]
    public async Task Overlay_token_commands_create_list_rotate_and_revoke()
    {
        await using var relay = await RelayFactory.StartAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();

        var (created, createOutput) = await RunAsync(relay, "overlay-token", "create", "--broadcaster", broadcaster, "--name", "alert-box");
        var id = Regex.Match(createOutput, "Created overlay token (\\S+)").Groups[1].Value;
        var (listed, listOutput) = await RunAsync(relay, "overlay-token", "list", "--broadcaster", broadcaster);
        var (rotated, rotateOutput) = await RunAsync(relay, "overlay-token", "rotate", id);
        var newId = Regex.Match(rotateOutput, "and created (\\S+)").Groups[1].Value;
        var (revoked, _) = await RunAsync(relay, "overlay-token", "revoke", newId);
        var (revokedAgain, revokedAgainOutput) = await RunAsync(relay, "overlay-token", "revoke", newId);
        var (_, finalList) = await RunAsync(relay, "overlay-token", "list");
        var (badUsage, usage) = await RunAsync(relay, "overlay-token", "create", "--broadcaster", "not-a-number");

        (created, listed, rotated, revoked, revokedAgain, badUsage).Should().Be((0, 0, 0, 0, 1, 2));
        createOutput.Should().MatchRegex("esr_[A-Za-z0-9_-]{43}");
        listOutput.Should().Contain(id).And.Contain("alert-box").And.Contain("active").And.NotContain("esr_");
        rotateOutput.Should().Contain($"Revoked overlay token {id}");
        revokedAgainOutput.Should().Contain($"No active overlay token {newId}.");
        finalList.Split('\n').Where(l => l.Contains(broadcaster, StringComparison.Ordinal)).Should().HaveCount(2).And.OnlyContain(l => l.Contains("revoked", StringComparison.Ordinal));
        usage.Should().Contain("Usage:");
    }

    /// <summary>Runs a command as the executable would, with its output and error written to one text.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(RelayFactory relay, params string[] arguments)
    {
        var command = RelayCommand.Parse(arguments) ?? throw new ArgumentException("not a command", nameof(arguments));
        await using var output = new StringWriter();
        var exitCode = await command.RunAsync(relay.Services, output, output);
        return (exitCode, output.ToString());
    }
}
