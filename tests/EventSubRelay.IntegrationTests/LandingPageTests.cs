using System.Net;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary><c>/</c> and the docs it links to.</summary>
public sealed class LandingPageTests
{
    [Fact]
    public async Task The_root_is_a_page_that_links_the_dashboard_the_overlay_page_the_docs_and_health_and_every_link_works()
    {
        await using var relay = await RelayFactory.StartAsync();
        using var client = relay.CreateRelayClient();

        using var root = await client.GetAsync("/");
        var html = await root.Content.ReadAsStringAsync();

        root.StatusCode.Should().Be(HttpStatusCode.OK);
        root.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        var links = System.Text.RegularExpressions.Regex.Matches(html, "href=\"(/[^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        links.Should().Contain(["/dashboard", "/overlay", "/docs/README.md", "/healthz"]);
        foreach (var link in links)
        {
            using var response = await client.GetAsync(link);
            response.StatusCode.Should().Be(HttpStatusCode.OK, link);
        }
    }

    [Fact]
    public async Task The_docs_are_the_relay_s_own_and_nothing_else_is_served_under_docs()
    {
        await using var relay = await RelayFactory.StartAsync();
        using var client = relay.CreateRelayClient();

        var readme = await client.GetStringAsync("/docs/README.md");
        using var events = await client.GetAsync("/docs/events.md");
        using var other = await client.GetAsync("/docs/appsettings.json");

        readme.Should().Contain("## Connect to Twitch");
        events.Content.Headers.ContentType!.MediaType.Should().Be("text/markdown");
        (await events.Content.ReadAsStringAsync()).Should().Contain("## What overlays never see");
        other.StatusCode.Should().Be(HttpStatusCode.NotFound);
        other.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }
}
