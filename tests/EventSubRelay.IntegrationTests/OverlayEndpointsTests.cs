using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

public sealed class OverlayEndpointsTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    [Fact]
    public void Every_overlay_endpoint_but_the_page_requires_the_one_token_policy()
    {
        var endpoints = relay.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var overlay = endpoints.Where(e => e.RoutePattern.RawText is { } route
            && (route.StartsWith(OverlayExtensions.HubPath, StringComparison.Ordinal) || route.StartsWith("/api/overlays", StringComparison.Ordinal) || route.StartsWith("/api/test-alerts", StringComparison.Ordinal))).ToList();
        var page = endpoints.Where(e => e.RoutePattern.RawText?.StartsWith("/overlay", StringComparison.Ordinal) == true).ToList();

        overlay.Select(e => e.RoutePattern.RawText).Should().Contain([OverlayExtensions.HubPath, OverlayExtensions.HubPath + "/negotiate", "/api/overlays/status", "/api/test-alerts"]);
        overlay.Should().OnlyContain(e => e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).SequenceEqual(new[] { OverlayTokenAuthentication.PolicyName }));
        page.Should().NotBeEmpty().And.OnlyContain(e => !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any());
    }
}
