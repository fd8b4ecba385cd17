using EventSubRelay.Accounts;
using EventSubRelay.Commands;
using EventSubRelay.Data;
using EventSubRelay.Operations;
using EventSubRelay.Overlay;
using EventSubRelay.Pages;
using EventSubRelay.Processing;
using EventSubRelay.StreamerBot;
using EventSubRelay.Twitch;
using EventSubRelay.Webhooks;
using Microsoft.Extensions.Options;
using Npgsql;

// The container health check runs the executable again; it needs nothing but the configuration (where the relay
// listens) and HTTP.
if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(WebApplication.CreateBuilder(args[1..]).Configuration, Console.Error);
}

var command = RelayCommand.Parse(args);
var builder = WebApplication.CreateBuilder(command is null ? args : []);

// Logging: Serilog, JSON outside Development
builder.AddRelayLogging();

// PostgreSQL: configured, or a local server in Development
builder.AddDatabase();

// Ingest: POST /eventsub, the bounded queue, group commit and delivery
builder.AddWebhooks();
builder.AddProcessing();

// Overlays: token authentication and the SignalR hub
builder.AddOverlay();

// Streamer.bot widgets: the Streamer.bot WebSocket protocol, with the relay's catch-up
builder.AddStreamerBot();

// Twitch: Helix and OAuth clients (optional: without a client id the relay still ingests and serves overlays)
builder.AddTwitch();

// Accounts: the dashboard, linked channels and their EventSub subscriptions
builder.AddAccounts();

// Operations: health checks and metrics
builder.AddRelayOperations();
builder.Services.AddProblemDetails();
builder.Services.AddSingleton(TimeProvider.System);

var app = builder.Build();
try
{
    // Fail here, with a clear message, if there is no database to use.
    app.Services.GetRequiredService<NpgsqlDataSource>();

    if (command is not null)
    {
        return await command.RunAsync(app.Services, Console.Out, Console.Error);
    }

    await app.Services.MigrateIfConfiguredAsync();

    // The client's address and scheme, from the proxies the settings trust (before anything reads them).
    app.UseForwardedHeadersFromTrustedProxies();
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.UseRelayRequestLogging();
    app.UseBadRequestAnswers();
    app.UseOverlayCors();
    // Only the dashboard runs the authentication middleware (for Twitch's OAuth callback); the overlay endpoints'
    // policies name their scheme, and webhooks never pay for it.
    app.UseDashboard();
    app.UseAuthorization();
    // After authorization, which authenticates overlay tokens: test alerts are limited per token.
    app.UseRateLimiter();

    app.MapEventSubWebhook();
    app.MapOverlay();
    app.MapStreamerBot();
    app.MapRelayOperations();
    app.MapRazorPages();
    app.MapLandingPage();

    await app.RunAsync();
    return 0;
}
catch (StartupConfigurationException exception)
{
    await Console.Error.WriteLineAsync($"EventSubRelay cannot start: {exception.Message}");
    return 1;
}
catch (OptionsValidationException exception)
{
    await Console.Error.WriteLineAsync($"EventSubRelay cannot start, the configuration is invalid: {string.Join(" ", exception.Failures)}");
    return 1;
}

/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
