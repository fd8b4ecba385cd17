using EventSubRelay.Events;
using MessagePack.Resolvers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

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
        builder.Services.AddSignalR(options => options.AddFilter<OverlayHubLogging>())
            .AddMessagePackProtocol(options => options.SerializerOptions = options.SerializerOptions.WithResolver(
                CompositeResolver.Create([JsonElementMessagePackFormatter.Instance], [ContractlessStandardResolver.Instance])));

        // Several instances pass each other their events through Redis (the hub's groups are each instance's own);
        // without it the relay runs alone.
        var redis = builder.Configuration["SignalR:Redis"];
        var sharedGroups = redis is { Length: > 0 };
        if (sharedGroups)
        {
            builder.Services.AddSingleton(services => ActivatorUtilities.CreateInstance<OverlayBackplane>(services, redis!));
            builder.Services.AddHostedService(services => services.GetRequiredService<OverlayBackplane>());
        }

        builder.Services.AddScoped<OverlayTokens>();
        builder.Services.AddSingleton<OverlayTokenCache>();
        builder.Services.AddSingleton<OverlayFanOut>();
        builder.Services.AddSingleton(services =>
        {
            var store = services.GetRequiredService<OverlayEventStore>();
            return new OverlaySequencer(sharedGroups, store.LatestSeqAsync, services.GetRequiredService<TimeProvider>());
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
