using Microsoft.Playwright;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>A relay shared by a test class, and the system's Chromium (headless) to open its pages in.</summary>
public sealed class RelayWithChromium : RelayFixture, IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Chromium { get; private set; } = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Chromium = await SystemChromium.LaunchAsync(_playwright);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright?.Dispose();
        await DisposeAsync();
    }
}
