using EventSubRelay.Accounts;
using EventSubRelay.IntegrationTests.FakeTwitch;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace EventSubRelay.IntegrationTests;

/// <summary>The dashboard's log-in, link and toggle flow in headless Chromium, against the fake Twitch.</summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private FakeTwitchServer _twitch = null!;
    private RelayFactory _relay = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _twitch = await FakeTwitchServer.StartAsync();
        var port = RelayFactory.FreePort();
        _relay = await RelayFactory.StartAsync(_twitch.RelaySettings(new Uri($"http://127.0.0.1:{port}")), port: port);
        _playwright = await Playwright.CreateAsync();
        _browser = await SystemChromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _relay.DisposeAsync();
        await _twitch.DisposeAsync();
    }

    [Fact]
    public async Task Streamer_logs_in_links_chooses_events_and_gets_an_overlay_url()
    {
        var user = _twitch.AddUser("partner");
        await using var context = await _browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_relay.BaseAddress, "/dashboard").ToString());

        await page.ClickAsync("#login-button");

        await Assertions.Expect(page.Locator("#account-name")).ToHaveTextAsync(user.DisplayName);
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "eventsubrelay.dashboard");
        cookie.HttpOnly.Should().BeTrue();
        cookie.SameSite.Should().Be(SameSiteAttribute.Lax);

        await page.CheckAsync("input[name=events][value=cheer]");
        await page.UncheckAsync("input[name=events][value=follow]");
        await page.ClickAsync("#save-events");
        await Assertions.Expect(page.Locator("#missing-scopes")).ToContainTextAsync("bits:read");
        await Assertions.Expect(page.Locator("input[name=events][value=cheer]")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("input[name=events][value=follow]")).Not.ToBeCheckedAsync();

        await page.ClickAsync("#relink-button");
        await Assertions.Expect(page.Locator("#account-name")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#missing-scopes")).ToHaveCountAsync(0);
        _twitch.LastAuthorizeQuery.Should().Contain("force_verify=true");

        (await _relay.Services.GetRequiredService<SubscriptionSync>().SyncAsync(CancellationToken.None))!.Blocked.Should().BeEmpty();
        _twitch.Subscriptions.Select(s => s.Type).Should().Contain("channel.cheer").And.NotContain("channel.follow");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#subscriptions")).ToContainTextAsync("channel.cheer");

        await page.FillAsync("input[name=name]", "alert box");
        await page.ClickAsync("#create-token");
        await Assertions.Expect(page.Locator("#new-overlay-url")).ToContainTextAsync("/overlay#token=esr_");
        await Assertions.Expect(page.Locator("#overlays")).ToContainTextAsync("alert box");
    }
}
