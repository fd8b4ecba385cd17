using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests.StreamerBot;

/// <summary>The official <c>@streamerbot/client</c> from npm, run by Node, against the relay's Streamer.bot endpoint.</summary>
public sealed class OfficialClientTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    [Fact]
    public async Task The_official_client_connects_with_endpoint_and_password_subscribes_and_receives_a_webhooks_follow()
    {
        var factory = relay.Factory;
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await factory.CreateOverlayTokenAsync(broadcaster);
        await using var widget = NodeWidget.Start(factory.BaseAddress.Port, token);

        (await widget.NextAsync("connected"))["name"]!.GetValue<string>().Should().Be("EventSubRelay");
        (await widget.NextAsync("broadcaster"))["id"]!.GetValue<string>().Should().Be(broadcaster);
        await widget.NextAsync("subscribed");
        var follow = await factory.SendNotificationAsync(broadcaster);

        var received = await widget.NextAsync("follow");
        received["id"]!.GetValue<string>().Should().Be(follow);
        received["event"]!.ToJsonString().Should().Be("""{"source":"Twitch","type":"Follow"}""");
        received["data"]!["userName"].Should().NotBeNull();
    }

    private sealed class NodeWidget : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<JsonObject> _lines = Channel.CreateUnbounded<JsonObject>();
        private readonly List<string> _errors = [];
        private readonly List<JsonObject> _seen = [];

        private NodeWidget(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, line) =>
            {
                if (line.Data is { Length: > 0 } text)
                {
                    _lines.Writer.TryWrite(JsonNode.Parse(text)!.AsObject());
                }
            };
            process.ErrorDataReceived += (_, line) =>
            {
                if (line.Data is { } text)
                {
                    lock (_errors)
                    {
                        _errors.Add(text);
                    }
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public static NodeWidget Start(int port, string token)
        {
            var directory = typeof(OfficialClientTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "StreamerBotClientDirectory").Value!;
            var start = new ProcessStartInfo("node", "follow-listener.mjs")
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["RELAY_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["RELAY_TOKEN"] = token;
            return new NodeWidget(Process.Start(start)!);
        }

        /// <summary>The first line of this kind not yet taken, in the order printed; an error line from the client fails the test.</summary>
        public async Task<JsonObject> NextAsync(string kind)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                while (true)
                {
                    if (_seen.FirstOrDefault(l => l["kind"]!.GetValue<string>() == kind) is { } earlier)
                    {
                        _seen.Remove(earlier);
                        return earlier;
                    }

                    var line = await _lines.Reader.ReadAsync(timeout.Token);
                    line["kind"]!.GetValue<string>().Should().NotBe("error", line.ToJsonString());
                    _seen.Add(line);
                }
            }
            catch (OperationCanceledException)
            {
                lock (_errors)
                {
                    throw new TimeoutException($"No '{kind}' from the Streamer.bot client. Its stderr: {string.Join('\n', _errors)}");
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
