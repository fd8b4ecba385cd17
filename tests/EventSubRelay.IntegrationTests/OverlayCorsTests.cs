using System.Net;
using System.Text.RegularExpressions;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// The "complete overlay" of docs/overlay-api.md, taken from the doc itself, in headless Chromium: as a local file
/// (how OBS loads "local file" sources), from another origin and from the relay's own.
/// </summary>
public sealed partial class OverlayCorsTests(RelayWithChromium browser) : IClassFixture<RelayWithChromium>
{
    private const string DocumentedRelay = "http://localhost:5080";

    private RelayFactory Factory => browser.Factory;

    [Fact]
    public async Task Documented_overlay_opened_as_a_local_file_shows_a_webhook_alert()
    {
        var directory = Directory.CreateTempSubdirectory("overlay-doc-");
        try
        {
            var file = Path.Combine(directory.FullName, "overlay.html");
            await File.WriteAllTextAsync(file, DocumentedOverlay(Factory.BaseAddress));

            await ShowsAnAlertAsync(new Uri(file).AbsoluteUri);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Documented_overlay_served_from_another_origin_shows_a_webhook_alert()
    {
        var html = DocumentedOverlay(Factory.BaseAddress);
        await using var otherSite = await StartSiteAsync(html);

        await ShowsAnAlertAsync(new Uri(otherSite.Address, "/overlay.html").ToString());
    }

    [Fact]
    public async Task Documented_overlay_served_from_the_relays_origin_shows_a_test_alert()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        var url = new Uri(Factory.BaseAddress, "/my-overlay.html").ToString();
        await using var context = await browser.Chromium.NewContextAsync();
        // The browser fetches the page from the relay's address; only its content comes from the doc.
        await context.RouteAsync(url, route => route.FulfillAsync(new() { ContentType = "text/html", Body = DocumentedOverlay(Factory.BaseAddress) }));
        var page = await OpenAsync(context, $"{url}#token={token}");

        using var client = Factory.CreateRelayClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        using var sent = await client.PostAsync("/api/test-alerts", new StringContent("""{ "type": "Follow" }""", System.Text.Encoding.UTF8, "application/json"));
        sent.StatusCode.Should().Be(HttpStatusCode.OK);

        await Assertions.Expect(page.Locator("#alert")).ToHaveClassAsync("visible");
        await Assertions.Expect(page.Locator("#alert")).ToContainTextAsync(": Follow");
    }

    [Fact]
    public async Task Overlay_endpoints_answer_any_origin_without_credentials_by_default()
    {
        var token = await Factory.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId());
        using var client = Factory.CreateRelayClient();

        foreach (var (method, path) in new[] { ("POST", "/hubs/overlay/negotiate?negotiateVersion=1"), ("GET", "/api/overlays/status"), ("POST", "/api/test-alerts") })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, path);
            preflight.Headers.Add("Origin", "null");
            preflight.Headers.Add("Access-Control-Request-Method", method);
            preflight.Headers.Add("Access-Control-Request-Headers", "authorization, x-requested-with, x-signalr-user-agent, content-type");
            using var answer = await client.SendAsync(preflight);

            answer.StatusCode.Should().Be(HttpStatusCode.NoContent, path);
            answer.Headers.GetValues("Access-Control-Allow-Origin").Single().Should().Be("*", path);
            answer.Headers.Contains("Access-Control-Allow-Credentials").Should().BeFalse(path);
        }

        using var status = new HttpRequestMessage(HttpMethod.Get, "/api/overlays/status");
        status.Headers.Add("Origin", "https://widgets.example");
        status.Headers.Authorization = new("Bearer", token);
        using var statusAnswer = await client.SendAsync(status);
        statusAnswer.StatusCode.Should().Be(HttpStatusCode.OK);
        statusAnswer.Headers.GetValues("Access-Control-Allow-Origin").Single().Should().Be("*");
    }

    [Fact]
    public async Task Restricted_origins_are_answered_with_cors_headers_and_other_origins_cannot_open_the_hub_websocket()
    {
        await using var relay = await RelayFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Overlay:AllowedOrigins:0"] = "https://widgets.example",
            ["Overlay:AllowedOrigins:1"] = "null",
        });
        var token = await relay.CreateOverlayTokenAsync(TwitchWebhook.NewBroadcasterId());
        using var client = relay.CreateRelayClient();

        foreach (var (origin, allowed) in new[] { ("https://widgets.example", true), ("null", true), ("https://elsewhere.example", false) })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/hubs/overlay/negotiate?negotiateVersion=1");
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            using var answer = await client.SendAsync(preflight);
            (answer.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null).Should().Be(allowed ? origin : null, origin);

            var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(relay.BaseAddress, OverlayExtensions.HubPath), options =>
                {
                    options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                    options.SkipNegotiation = true;
                    options.Transports = HttpTransportType.WebSockets;
                    options.Headers["Origin"] = origin;
                })
                .Build();
            await using (connection)
            {
                var start = () => connection.StartAsync();
                if (allowed)
                {
                    await start.Should().NotThrowAsync(origin);
                }
                else
                {
                    (await start.Should().ThrowAsync<Exception>(origin)).Which.ToString().Should().Contain("403");
                }
            }
        }
    }

    private async Task ShowsAnAlertAsync(string pageUrl)
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        await using var context = await browser.Chromium.NewContextAsync();
        var page = await OpenAsync(context, $"{pageUrl}#token={token}");

        await Factory.SendNotificationAsync(broadcaster);

        await Assertions.Expect(page.Locator("#alert")).ToHaveTextAsync("Awesome_User: Follow");
        await Assertions.Expect(page.Locator("#alert")).ToHaveClassAsync("visible");
    }

    private static async Task<IPage> OpenAsync(IBrowserContext context, string url)
    {
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => errors.Add(message.Text);
        await page.GotoAsync(url);
        try
        {
            await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-connected", "true");
        }
        catch (PlaywrightException exception)
        {
            throw new InvalidOperationException($"The documented overlay did not connect from {new Uri(url).GetLeftPart(UriPartial.Path)}: {string.Join(" | ", errors)}", exception);
        }

        return page;
    }

    /// <summary>The doc's complete overlay, pointed at this relay instead of the documented local one.</summary>
    private static string DocumentedOverlay(Uri relay)
    {
        var document = File.ReadAllText(Path.Combine(Repository.Root, "docs", "overlay-api.md"));
        var section = document[document.IndexOf("## A complete overlay", StringComparison.Ordinal)..];
        var html = HtmlBlock().Match(section).Groups[1].Value;
        html.Should().Contain(DocumentedRelay).And.Contain("function show(");
        return html.Replace(DocumentedRelay, relay.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal);
    }

    [GeneratedRegex("```html\n(.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex HtmlBlock();

    /// <summary>A second web site on loopback (another origin than the relay's) that serves one page.</summary>
    private static async Task<Site> StartSiteAsync(string html)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/overlay.html", () => Results.Content(html, "text/html; charset=utf-8"));
        await app.StartAsync();
        return new Site(app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()));
    }

    private sealed record Site(WebApplication App, Uri Address) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
