using System.Net;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace EventSubRelay.IntegrationTests;

/// <summary>The overlay page at /overlay in headless Chromium, against a real relay.</summary>
public sealed class OverlayPageBrowserTests(RelayWithChromium browser) : IClassFixture<RelayWithChromium>
{
    private RelayFactory Factory => browser.Factory;

    [Fact]
    public async Task Alert_for_a_signed_webhook_appears_on_the_page()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var context = await browser.Chromium.NewContextAsync();
        // Shown for a minute: with a short duration a slow host could hide the alert again before it is checked.
        var page = await OpenOverlayAsync(context, await Factory.CreateOverlayTokenAsync(broadcaster), duration: 60_000);

        await Factory.SendNotificationAsync(broadcaster);

        await Assertions.Expect(page.Locator("#alert")).ToHaveTextAsync("Awesome_User followed!");
        await Assertions.Expect(page.Locator("#alert")).ToHaveClassAsync("visible");
    }

    [Fact]
    public async Task Every_event_appears_exactly_once_when_the_page_is_reloaded_while_events_arrive()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        await using var context = await browser.Chromium.NewContextAsync();
        var page = await OpenOverlayAsync(context, token, duration: 150, log: true);

        var sent = new List<string>();
        for (var round = 0; round < 2; round++)
        {
            var sending = Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Factory.SendNotificationAsync(broadcaster)));
            await page.ReloadAsync();
            sent.AddRange(await sending);
            await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-connected", "true");
        }

        // The page logs each alert it shows next to its resume point, so the log survives the reloads.
        var shown = Array.Empty<string>();
        await WaitUntilAsync(
            async () => sent.All((shown = await page.EvaluateAsync<string[]>("() => JSON.parse(localStorage.getItem('eventsubrelay.shownLog') ?? '[]')")).Contains),
            TimeSpan.FromSeconds(30),
            () => $"shown {shown.Length} of {sent.Count}; missing {string.Join(", ", sent.Where(id => !shown.Contains(id)))}");

        shown.Should().OnlyHaveUniqueItems();
        shown.Should().BeEquivalentTo(sent);
    }

    [Fact]
    public async Task Disconnected_indicator_is_hidden_while_connected_and_shown_when_the_relay_is_gone()
    {
        var relay = await RelayFactory.StartAsync();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var context = await browser.Chromium.NewContextAsync();
        var page = await OpenOverlayAsync(context, await relay.CreateOverlayTokenAsync(broadcaster), factory: relay);

        await Assertions.Expect(page.Locator("#status")).ToBeHiddenAsync();
        await relay.DisposeAsync();

        await Assertions.Expect(page.Locator("#status")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#notice")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Page_and_its_scripts_are_served_with_a_content_security_policy()
    {
        using var client = Factory.CreateRelayClient();

        using var page = await client.GetAsync("/overlay");
        using var script = await client.GetAsync("/overlay/signalr.min.js");
        using var missing = await client.GetAsync("/overlay/secrets.txt");

        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        page.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("script-src 'self'");
        (await script.Content.ReadAsStringAsync()).Should().Contain("HubConnectionBuilder");
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_rejected_token_is_said_in_words_not_only_with_the_red_dot()
    {
        // A relay of its own: invalid tokens count against this address on the relay they are sent to.
        await using var relay = await RelayFactory.StartAsync();
        await using var context = await browser.Chromium.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(new Uri(relay.BaseAddress, "/overlay#token=esr_not-a-token&notice=2").ToString());

        var notice = page.Locator("#notice");
        await Assertions.Expect(notice).ToBeVisibleAsync();
        await Assertions.Expect(notice).ToHaveAttributeAsync("data-state", "unauthorized");
        await Assertions.Expect(notice).ToContainTextAsync("401");
        await Assertions.Expect(page.Locator("#status")).ToBeVisibleAsync();
        // Shown for a few seconds after an attempt, then only the dot until the next attempt is refused again.
        await Assertions.Expect(notice).ToBeHiddenAsync(new() { Timeout = 10_000 });
    }

    [Fact]
    public async Task An_address_limited_for_invalid_tokens_is_said_in_words_too()
    {
        await using var relay = await RelayFactory.StartAsync(new Dictionary<string, string?> { ["Overlay:InvalidTokenAttemptsPerMinute"] = "1" });
        await using var context = await browser.Chromium.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(new Uri(relay.BaseAddress, "/overlay#token=esr_not-a-token").ToString());

        await Assertions.Expect(page.Locator("#notice")).ToHaveAttributeAsync("data-state", "rate-limited", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#notice")).ToContainTextAsync("429");
    }

    private async Task<IPage> OpenOverlayAsync(IBrowserContext context, string token, int duration = 300, RelayFactory? factory = null, bool log = false)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri((factory ?? Factory).BaseAddress, $"/overlay#token={token}&duration={duration}&gap=20{(log ? "&log=1" : "")}").ToString());
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-connected", "true");
        return page;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(describe());
            }

            // The page reports alerts as it shows them, one by one; there is nothing to await but time.
            await Task.Delay(50);
        }
    }
}
