using EventSubRelay.Events;
using MessagePack.Resolvers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace EventSubRelay.Overlay;

internal static class OverlayExtensions
{
    public const string HubPath = "/hubs/overlay";

    public static void AddOverlay(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, OverlayTokenAuthentication>(OverlayTokenAuthentication.SchemeName, null);
        builder.Services.AddAuthorization(options => options.AddPolicy(OverlayTokenAuthentication.PolicyName,
            policy => policy.AddAuthenticationSchemes(OverlayTokenAuthentication.SchemeName).RequireAuthenticatedUser()));
        builder.Services.AddOptions<OverlayOptions>().BindConfiguration(OverlayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddOverlayCors();
        var signalR = builder.Services.AddSignalR(options => options.AddFilter<OverlayHubLogging>())
            .AddMessagePackProtocol(options => options.SerializerOptions = options.SerializerOptions.WithResolver(
                CompositeResolver.Create([JsonElementMessagePackFormatter.Instance], [ContractlessStandardResolver.Instance])));

        // Several instances share groups through Redis; without it the relay runs alone.
        var sharedGroups = builder.Configuration["SignalR:Redis"] is { Length: > 0 };
        if (sharedGroups)
        {
            signalR.AddStackExchangeRedis(builder.Configuration["SignalR:Redis"]!, options => options.Configuration.ChannelPrefix = RedisChannel.Literal("eventsubrelay"));
            builder.Services.AddOptions<RedisOptions>().Configure<IServiceProvider, ILogger<OverlaySubscriptions>>(ResyncAfterBackplaneOutage);
        }

        builder.Services.AddScoped<OverlayTokens>();
        builder.Services.AddSingleton<OverlayTokenCache>();
        builder.Services.AddSingleton<OverlayFanOut>();
        builder.Services.AddSingleton(services =>
        {
            var store = services.GetRequiredService<OverlayEventStore>();
            return new OverlaySequencer(sharedGroups, store.LatestSeqAsync);
        });
        builder.Services.AddSingleton<OverlaySubscriptions>();
        builder.Services.AddSingleton<OverlayHubLogging>();
        builder.Services.AddSingleton<TestAlerts>();
        builder.Services.AddTestAlertLimit();
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
    /// <remarks>
    /// The connections are looked up when the backplane comes back, not when the options are made: the hub's
    /// lifetime manager, which <see cref="OverlaySubscriptions"/> needs, is itself made from these options.
    /// </remarks>
    private static void ResyncAfterBackplaneOutage(RedisOptions options, IServiceProvider services, ILogger<OverlaySubscriptions> logger) =>
        options.ConnectionFactory = async writer =>
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(options.Configuration, writer);
            redis.ConnectionRestored += (_, restored) =>
            {
                if (restored.ConnectionType == ConnectionType.Subscription)
                {
                    var closed = services.GetRequiredService<OverlaySubscriptions>().AbortAll();
                    logger.LogWarning("The Redis backplane is back after an outage; closed {Count} overlay connections so they resume what they missed", closed);
                }
            };
            return redis;
        };

    /// <summary>
    /// The overlay endpoints: the page (public: it asks for the token itself), and behind the one token policy
    /// the hub, the connection status and test alerts, which pages of any allowed origin may call.
    /// </summary>
    public static void MapOverlay(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOverlayPage();
        var withToken = endpoints.MapGroup("").RequireAuthorization(OverlayTokenAuthentication.PolicyName).RequireCors(OverlayCors.PolicyName);
        withToken.MapOverlayHub();
        withToken.MapOverlayStatus();
        withToken.MapTestAlerts();
    }

    /// <summary>
    /// <c>MapHub</c>, with each connection's unread output bounded (<see cref="UnreadOutputLimit"/>): a client that
    /// stops reading is dropped instead of holding up the sends to everyone else.
    /// </summary>
    private static void MapOverlayHub(this IEndpointRouteBuilder endpoints)
    {
        var maxUnreadBytes = endpoints.ServiceProvider.GetRequiredService<IOptions<OverlayOptions>>().Value.MaxUnreadBytesPerConnection;
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UnreadOutputLimit));
        var dispatcher = new HttpConnectionDispatcherOptions { TransportMaxBufferSize = maxUnreadBytes };
        endpoints.MapConnections(HubPath, dispatcher, connections => connections.UseUnreadOutputLimit(maxUnreadBytes, logger).UseHub<OverlayHub>())
            .WithMetadata(new HubMetadata(typeof(OverlayHub)));
    }
}
