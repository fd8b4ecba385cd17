using MessagePack.Resolvers;
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
        builder.Services.AddOptions<OverlayOptions>().BindConfiguration(OverlayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var signalR = builder.Services.AddSignalR()
            .AddMessagePackProtocol(options => options.SerializerOptions = options.SerializerOptions.WithResolver(
                CompositeResolver.Create([JsonElementMessagePackFormatter.Instance], [ContractlessStandardResolver.Instance])));

        // Several instances share groups through Redis; without it the relay runs alone.
        var sharedGroups = builder.Configuration["SignalR:Redis"] is { Length: > 0 };
        if (sharedGroups)
        {
            signalR.AddStackExchangeRedis(builder.Configuration["SignalR:Redis"]!, options => options.Configuration.ChannelPrefix = StackExchange.Redis.RedisChannel.Literal("eventsubrelay"));
        }

        builder.Services.AddScoped<OverlayTokens>();
        builder.Services.AddSingleton(services => new OverlayFanOut(
            services.GetRequiredService<Microsoft.AspNetCore.SignalR.IHubContext<OverlayHub>>(), services.GetRequiredService<OverlayReplay>(), sharedGroups));
        builder.Services.AddSingleton<TestAlerts>();
        builder.Services.AddSingleton<OverlayReplay>();
        builder.Services.AddSingleton<OverlayConnections>();
        builder.Services.AddSingleton<OverlayStatusReport>();
        builder.Services.AddSingleton<InvalidTokenLimiter>();
        builder.Services.AddHostedService<RevokedTokenWatcher>();
        builder.Services.AddHostedService<OverlayConnectionDirectory>();
    }

    public static void MapOverlay(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHub<OverlayHub>(HubPath);
}
