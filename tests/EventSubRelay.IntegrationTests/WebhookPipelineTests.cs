using System.Collections.Concurrent;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventSubRelay.IntegrationTests;

/// <summary>What runs in front of a webhook: only what it needs (it is the relay's hottest path).</summary>
public sealed class WebhookPipelineTests
{
    [Fact]
    public async Task A_webhook_runs_no_authentication_handler_and_the_dashboard_still_does()
    {
        var resolved = new ConcurrentQueue<(string Path, string Scheme)>();
        await using var relay = await RelayFactory.StartAsync(services: services => services.AddScoped<IAuthenticationHandlerProvider>(provider =>
            new RecordingHandlerProvider(new AuthenticationHandlerProvider(provider.GetRequiredService<IAuthenticationSchemeProvider>()), resolved)));

        await relay.SendNotificationAsync(TwitchWebhook.NewBroadcasterId());
        resolved.Should().NotContain(r => r.Path == "/eventsub");

        // The recorder sees what it should: the dashboard authenticates (its OAuth callback is a request handler).
        using var client = relay.CreateRelayClient();
        using var dashboard = await client.GetAsync("/dashboard");
        resolved.Should().Contain(r => r.Path == "/dashboard");
    }

    [Fact]
    public async Task The_logger_factory_keeps_its_loggers_so_answering_a_webhook_makes_none()
    {
        // ASP.NET Core asks the factory for a logger each time it runs a result (the 204 of every webhook).
        await using var relay = await RelayFactory.StartAsync();
        var factory = relay.Services.GetRequiredService<ILoggerFactory>();

        factory.CreateLogger("Microsoft.AspNetCore.Http.Result.NoContentResult").Should()
            .BeSameAs(factory.CreateLogger("Microsoft.AspNetCore.Http.Result.NoContentResult"));
        factory.CreateLogger("a").Should().NotBeSameAs(factory.CreateLogger("b"));
    }

    private sealed class RecordingHandlerProvider(IAuthenticationHandlerProvider inner, ConcurrentQueue<(string Path, string Scheme)> resolved) : IAuthenticationHandlerProvider
    {
        public Task<IAuthenticationHandler?> GetHandlerAsync(HttpContext context, string authenticationScheme)
        {
            resolved.Enqueue((context.Request.Path.Value ?? "", authenticationScheme));
            return inner.GetHandlerAsync(context, authenticationScheme);
        }
    }
}
