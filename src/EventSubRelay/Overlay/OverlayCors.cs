using Microsoft.AspNetCore.Cors;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Overlay;

/// <summary>
/// Overlays are pages served from anywhere: an OBS "local file" source (origin <c>null</c>), a widget host, the relay
/// itself. The overlay endpoints authenticate by token and never by cookie, so by default every origin may call them,
/// without credentials; <c>Overlay:AllowedOrigins</c> narrows that. Browsers apply CORS to negotiate and HTTP calls
/// but not to WebSockets, so a restricted list is also checked at the hub's WebSocket upgrade.
/// </summary>
internal static class OverlayCors
{
    public const string PolicyName = "Overlay";

    public static void AddOverlayCors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddCors();
        builder.Services.AddOptions<CorsOptions>().Configure<IOptions<OverlayOptions>>((cors, overlay) =>
            cors.AddPolicy(PolicyName, Policy(overlay.Value.AllowedOrigins)));
    }

    private static CorsPolicy Policy(string[] allowedOrigins)
    {
        var policy = new CorsPolicyBuilder().AllowAnyHeader().AllowAnyMethod();
        return (allowedOrigins is [] || allowedOrigins.Contains("*") ? policy.AllowAnyOrigin() : policy.WithOrigins(allowedOrigins)).Build();
    }

    /// <summary>CORS for the endpoints that carry the overlay policy, and the same origins at their WebSocket upgrades.</summary>
    public static void UseOverlayCors(this WebApplication app)
    {
        app.UseCors();
        var policy = app.Services.GetRequiredService<IOptions<CorsOptions>>().Value.GetPolicy(PolicyName)!;
        if (policy.AllowAnyOrigin)
        {
            return;
        }

        app.Use(async (context, next) =>
        {
            if (IsUpgrade(context)
                && context.GetEndpoint()?.Metadata.GetMetadata<IEnableCorsAttribute>()?.PolicyName == PolicyName
                && context.Request.Headers.Origin.ToString() is { Length: > 0 } origin
                && !policy.IsOriginAllowed(origin)
                && !IsSameOrigin(origin, context.Request))
            {
                await Results.Problem(title: "Origin not allowed", detail: "This page's origin is not in Overlay:AllowedOrigins.",
                    statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(context);
                return;
            }

            await next(context);
        });
    }

    // SignalR adds the WebSocket feature inside its own endpoint, so the upgrade is recognised from the request itself
    // (HTTP/1.1 Upgrade, or HTTP/2's extended CONNECT).
    private static bool IsUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;

    // The relay's own pages (the default overlay at /overlay) are never refused, whatever the list says.
    private static bool IsSameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
}
