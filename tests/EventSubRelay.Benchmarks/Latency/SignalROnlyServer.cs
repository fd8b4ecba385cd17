using System.Text.Json;
using EventSubRelay.Events;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Benchmarks.Latency;

/// <summary>
/// The latency baseline: a bare SignalR server whose clients join their broadcaster's group, as overlay
/// clients do, and which forwards each webhook POST to that group (no signature check, no database).
/// It runs inside the benchmark (the floor: no process boundary) or, like the relay, as a child process of
/// its own with the same runtime settings, so that the two differ only in what the relay does.
/// </summary>
internal static class SignalROnlyServer
{
    public const string Command = "signalr-server";
    public const string HubPath = "/hubs/baseline";

    /// <summary>Runs the server as a child process until it is stopped (<c>ASPNETCORE_URLS</c> gives the address).</summary>
    public static async Task RunAsync(string[] args)
    {
        await using var app = Build(args);
        app.MapGet("/healthz", () => Results.Ok());
        await app.RunAsync();
    }

    public static WebApplication Build(string[] args, string? url = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        builder.Services.AddSignalR();
        if (url is not null)
        {
            builder.WebHost.UseUrls(url);
        }

        var app = builder.Build();
        app.MapHub<BaselineHub>(HubPath);
        var hub = app.Services.GetRequiredService<IHubContext<BaselineHub>>();
        app.MapPost("/eventsub", async (HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            var broadcaster = body.RootElement.GetProperty("subscription").GetProperty("condition").GetProperty("broadcaster_user_id").GetString()!;
            var id = request.Headers["Twitch-Eventsub-Message-Id"].ToString();
            await SendAsync(hub, broadcaster, id, body.RootElement.GetProperty("event").Clone());
            return Results.NoContent();
        });
        return app;
    }

    /// <summary>Sends what the relay sends for a follow, an overlay envelope, to the broadcaster's group.</summary>
    public static Task SendAsync(IHubContext<BaselineHub> hub, string broadcaster, string id, JsonElement data) =>
        hub.Clients.Group(broadcaster).SendAsync(OverlayClientMethods.Event,
            new OverlayEnvelope(id, 0, DateTimeOffset.UtcNow, broadcaster, false, OverlayEventKind.Twitch("Follow"), data));

    /// <summary>Clients name their broadcaster in the query string and join its group, and nothing else.</summary>
    internal sealed class BaselineHub : Hub
    {
        public override async Task OnConnectedAsync()
        {
            var broadcaster = Context.GetHttpContext()!.Request.Query["broadcaster"].ToString();
            await Groups.AddToGroupAsync(Context.ConnectionId, broadcaster);
        }
    }
}
