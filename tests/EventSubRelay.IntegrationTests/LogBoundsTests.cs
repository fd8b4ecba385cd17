using System.Net;
using System.Text;
using EventSubRelay.IntegrationTests.Infrastructure;
using Serilog.Events;

namespace EventSubRelay.IntegrationTests;

/// <summary>What a request that proves nothing about itself can make the relay write to its log.</summary>
public sealed class LogBoundsTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    private RelayFactory Factory => relay.Factory;

    public static TheoryData<string, Func<string, HttpRequestMessage>> HostileRequests() => new()
    {
        { "a 7 KB path", marker => new HttpRequestMessage(HttpMethod.Get, $"/{marker}" + new string('p', 7_000)) },
        { "a 7 KB path to the webhook, unsigned", marker => Unsigned($"/eventsub?m={marker}", new string('s', 7_000)) },
        { "a 4 KB method", marker => new HttpRequestMessage(new HttpMethod(new string('M', 4_000)), $"/{marker}") },
        { "a 7 KB overlay token", marker => new HttpRequestMessage(HttpMethod.Post, $"/hubs/overlay/negotiate?negotiateVersion=1&access_token={new string('t', 7_000)}&m={marker}") },
        { "a 7 KB login error", marker => new HttpRequestMessage(HttpMethod.Get, $"/dashboard?m={marker}&loginError={new string('e', 7_000)}") },
    };

    [Theory]
    [MemberData(nameof(HostileRequests))]
    public async Task An_unauthenticated_request_writes_at_most_a_few_kilobytes_of_log(string _, Func<string, HttpRequestMessage> hostile)
    {
        using var client = Factory.CreateRelayClient();
        var marker = Guid.NewGuid().ToString("N");
        await QuietAsync();
        var before = Factory.Logs.Events.Count;

        using var request = hostile(marker);
        using var response = await client.SendAsync(request);

        ((int)response.StatusCode).Should().BeLessThan(500);
        // The request log line is the last a request writes.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!Factory.Logs.Events.Skip(before).Any(e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)))
        {
            await Task.Delay(20, timeout.Token);
        }

        var written = Factory.Logs.Events.Skip(before).ToList();
        written.Sum(Length).Should().BeLessThan(4_000, "every value a log line carries is capped; the lines: {0}", string.Join("\n", written.Select(e => e.MessageTemplate.Text)));
        written.Should().OnlyContain(e => e.Level < LogEventLevel.Error);
    }

    [Fact]
    public async Task A_capped_value_keeps_its_start_and_says_how_much_was_cut()
    {
        using var client = Factory.CreateRelayClient();
        var marker = Guid.NewGuid().ToString("N");

        using var response = await client.GetAsync($"/{marker}" + new string('p', 3_000));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        LogEvent? line;
        while ((line = Factory.Logs.Events.FirstOrDefault(e => e.Properties.TryGetValue("RequestPath", out var path) && path.ToString().Contains(marker, StringComparison.Ordinal))) is null)
        {
            await Task.Delay(20, timeout.Token);
        }

        var logged = ((ScalarValue)line.Properties["RequestPath"]).Value.Should().BeOfType<string>().Subject;
        logged.Should().StartWith($"/{marker}ppp").And.EndWith($"…(+{3_000 + 33 - 512} chars)");
    }

    private static HttpRequestMessage Unsigned(string path, string signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("Twitch-Eventsub-Message-Id", new string('i', 200));
        request.Headers.Add("Twitch-Eventsub-Message-Type", "notification");
        request.Headers.Add("Twitch-Eventsub-Message-Timestamp", "2026-12-07T00:00:00Z");
        request.Headers.TryAddWithoutValidation("Twitch-Eventsub-Message-Signature", signature);
        return request;
    }

    /// <summary>Waits for the log lines of earlier requests (written when each request ends) before counting.</summary>
    private async Task QuietAsync()
    {
        var count = -1;
        while (count != Factory.Logs.Events.Count)
        {
            count = Factory.Logs.Events.Count;
            await Task.Delay(100);
        }
    }

    private static int Length(LogEvent e) =>
        e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Length + e.Properties.Sum(p => p.Key.Length + p.Value.ToString().Length) + (e.Exception?.ToString().Length ?? 0);
}
