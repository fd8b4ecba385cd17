using Microsoft.AspNetCore.Authentication;

namespace EventSubRelay.Overlay;

internal static class OverlayExtensions
{
    public const string HubPath = "/hubs/overlay";

    public static void AddOverlay(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, OverlayTokenAuthentication>(OverlayTokenAuthentication.SchemeName, null);
        builder.Services.AddAuthorization();
        builder.Services.AddSignalR();
        builder.Services.AddScoped<OverlayTokens>();
        builder.Services.AddSingleton<OverlayFanOut>();
        builder.Services.AddSingleton<OverlayReplay>();
    }

    public static void MapOverlay(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHub<OverlayHub>(HubPath);
}
