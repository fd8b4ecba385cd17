using EventSubRelay.Overlay;

namespace EventSubRelay.StreamerBot;

internal static class StreamerBotExtensions
{
    public static void AddStreamerBot(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StreamerBotOptions>().BindConfiguration(StreamerBotOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<StreamerBotSessions>();
        builder.Services.AddSingleton<IOverlayEnvelopeListener>(services => services.GetRequiredService<StreamerBotSessions>());
        builder.Services.AddSingleton<StreamerBotAuthentication>();
        builder.Services.AddSingleton<StreamerBotCursors>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StreamerBotCursors>());
        builder.Services.AddSingleton<StreamerBotServer>();
        builder.Services.AddHostedService<StreamerBotRevocationWatcher>();
    }

    /// <summary>The Streamer.bot-protocol WebSocket endpoint at <c>StreamerBot:Path</c>. Origins are not restricted: the token is the credential.</summary>
    public static void MapStreamerBot(this IEndpointRouteBuilder endpoints)
    {
        var path = endpoints.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<StreamerBotOptions>>().Value.Path;
        var server = endpoints.ServiceProvider.GetRequiredService<StreamerBotServer>();
        var pipeline = endpoints.CreateApplicationBuilder().UseWebSockets();
        pipeline.Run(server.HandleAsync);
        endpoints.Map(path, pipeline.Build()).WithDisplayName("Streamer.bot WebSocket");
    }
}
