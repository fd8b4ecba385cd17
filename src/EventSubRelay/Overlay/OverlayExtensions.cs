using MessagePack.Resolvers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using StackExchange.Redis;

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
        builder.AddOverlayCors();
        var signalR = builder.Services.AddSignalR()
            .AddMessagePackProtocol(options => options.SerializerOptions = options.SerializerOptions.WithResolver(
                CompositeResolver.Create([JsonElementMessagePackFormatter.Instance], [ContractlessStandardResolver.Instance])));

        // Several instances share groups through Redis; without it the relay runs alone.
        var sharedGroups = builder.Configuration["SignalR:Redis"] is { Length: > 0 };
        if (sharedGroups)
        {
            signalR.AddStackExchangeRedis(builder.Configuration["SignalR:Redis"]!, options => options.Configuration.ChannelPrefix = RedisChannel.Literal("eventsubrelay"));
            builder.Services.AddOptions<RedisOptions>().Configure<OverlayConnections, ILogger<OverlayConnections>>(ResyncAfterBackplaneOutage);
        }

        builder.Services.AddScoped<OverlayTokens>();
        builder.Services.AddSingleton<OverlayTokenCache>();
        builder.Services.AddSingleton(services => new OverlayFanOut(
            services.GetRequiredService<Microsoft.AspNetCore.SignalR.IHubContext<OverlayHub>>(), services.GetRequiredService<OverlayReplay>(), sharedGroups,
            services.GetServices<IOverlayEnvelopeListener>()));
        builder.Services.AddSingleton<TestAlerts>();
        builder.Services.AddSingleton<OverlayReplay>();
        builder.Services.AddSingleton<OverlayConnections>();
        builder.Services.AddSingleton<OverlayStatusReport>();
        builder.Services.AddSingleton<InvalidTokenLimiter>();
        builder.Services.AddHostedService<RevokedTokenWatcher>();
        builder.Services.AddHostedService<OverlayConnectionDirectory>();
    }

    /// <summary>
    /// Redis does not keep what is published while a subscriber is away, so events sent while this instance's
    /// subscription to the backplane was down never reached its overlays. When the subscription is back, the
    /// instance ends its overlay connections: clients reconnect and resume from their last sequence number,
    /// and the replay brings what they missed (it is stored before it is sent).
    /// </summary>
    private static void ResyncAfterBackplaneOutage(RedisOptions options, OverlayConnections connections, ILogger<OverlayConnections> logger) =>
        options.ConnectionFactory = async writer =>
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(options.Configuration, writer);
            redis.ConnectionRestored += (_, restored) =>
            {
                if (restored.ConnectionType == ConnectionType.Subscription)
                {
                    var closed = connections.AbortAll();
                    logger.LogWarning("The Redis backplane is back after an outage; closed {Count} overlay connections so they resume what they missed", closed);
                }
            };
            return redis;
        };

    public static void MapOverlay(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHub<OverlayHub>(HubPath).RequireCors(OverlayCors.PolicyName);
}
