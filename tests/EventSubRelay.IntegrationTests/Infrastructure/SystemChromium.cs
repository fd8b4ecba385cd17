using Microsoft.Playwright;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>The system's headless Chromium (apt-get install chromium) driven by Playwright; never a downloaded browser.</summary>
public static class SystemChromium
{
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
}
