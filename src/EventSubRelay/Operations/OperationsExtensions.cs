using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using OpenTelemetry.Metrics;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace EventSubRelay.Operations;

internal static class OperationsExtensions
{
    /// <summary>The tag of the health checks <c>/readyz</c> runs (each feature adds its own).</summary>
    public const string ReadyTag = "ready";

    /// <summary>The meter of the relay's own instruments (each feature makes its instruments on it), exported with the ASP.NET Core and runtime metrics.</summary>
    public const string MeterName = "EventSubRelay";

    /// <summary>Serilog: readable console output in Development, JSON lines elsewhere.</summary>
    public static void AddRelayLogging(this WebApplicationBuilder builder)
    {
        // Each host keeps its own logger (preserveStaticLogger): the static Log.Logger is neither replaced nor
        // disposed by a host, which matters wherever several hosts share a process.
        builder.Services.AddSerilog(
            (services, configuration) =>
        {
            configuration
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .MinimumLevel.Information()
                // Hosting logs full request URLs, which would carry overlay tokens in query strings.
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
                // EF logs an error for its own probe of the migrations table on a new database; failing commands
                // of the relay's are logged by the relay with their exception.
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore.Database.Command", LogEventLevel.Fatal)
                // Hub call failures are logged by the overlay hub's filter, refused arguments without a stack trace.
                .MinimumLevel.Override("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", LogEventLevel.Fatal)
                .Enrich.FromLogContext()
                // Last: whatever a request sent (a path, a header, a query value) is capped before any sink sees it.
                .Enrich.With<BoundedLogValues>();

            if (builder.Environment.IsDevelopment())
            {
                configuration.WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                configuration.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
        },
            preserveStaticLogger: true);
    }

    /// <summary>Health checks and OpenTelemetry metrics (Prometheus format at /metrics).</summary>
    public static void AddRelayOperations(this IHostApplicationBuilder builder)
    {
        // Forwarded headers (client address, scheme, and host, so that the OAuth redirect_uri and the overlay URLs name
        // the public host) are believed from the listed proxies only, or loopback.
        builder.Services.AddSingleton(services => TrustedProxies.Read(services.GetRequiredService<IConfiguration>()));
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<TrustedProxies>((options, trusted) => trusted.ApplyTo(options));

        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);

        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddMeter(MeterName)
            .AddPrometheusExporter());
    }

    /// <summary>
    /// Runs the forwarded-headers middleware when <c>ForwardedHeaders:KnownProxies</c> or <c>KnownNetworks</c> list a
    /// proxy (with <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c> the host runs it already, first). Reading the lists here
    /// stops a relay with a bad entry at start-up, whether or not it is used.
    /// </summary>
    public static void UseForwardedHeadersFromTrustedProxies(this WebApplication app)
    {
        if (app.Services.GetRequiredService<TrustedProxies>().AreListed && !TrustedProxies.HostRunsMiddleware(app.Configuration))
        {
            app.UseForwardedHeaders();
        }
    }

    public static void MapRelayOperations(this WebApplication app)
    {
        // Liveness: the process answers. Readiness: it can take webhooks.
        app.MapHealthChecks("/healthz", new() { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new() { Predicate = check => check.Tags.Contains(ReadyTag) });
        app.MapPrometheusScrapingEndpoint("/metrics");
    }

    /// <summary>
    /// Answers an Upgrade on anything but a GET with 400, and closes the connection of any Upgrade request that is not
    /// upgraded.
    /// Answers malformed HTTP framing (a bad chunk size, a body shorter or slower than its
    /// <c>Content-Length</c>) with Kestrel's 400/408 as problem details, logged at Debug: a client's
    /// broken request is not the relay's error. Runs inside the request log, which then logs the 4xx.
    /// </summary>
    public static void UseBadRequestAnswers(this WebApplication app) =>
        app.Use(async (context, next) =>
        {
            if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true })
            {
                // After an Upgrade request that is not upgraded, the connection cannot carry another request (what the
                // client sends next is not HTTP): close it with the answer instead of holding it until the keep-alive
                // timeout. Only the overlay hub and the Streamer.bot endpoint upgrade, and only a GET.
                context.Response.OnStarting(() =>
                {
                    if (context.Response.StatusCode != StatusCodes.Status101SwitchingProtocols)
                    {
                        context.Response.Headers.Connection = "close";
                    }

                    return Task.CompletedTask;
                });
                if (!HttpMethods.IsGet(context.Request.Method))
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new()
                    {
                        HttpContext = context,
                        ProblemDetails = { Status = StatusCodes.Status400BadRequest, Title = "Upgrade not supported", Detail = "Only a GET request can be upgraded (to a WebSocket)." },
                    });
                    return;
                }
            }

            try
            {
                await next(context);
            }
            catch (BadHttpRequestException exception) when (!context.Response.HasStarted)
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EventSubRelay.BadRequests")
                    .LogDebug("Malformed request answered {StatusCode}: {Reason}", exception.StatusCode, exception.Message);
                context.Response.Clear();
                context.Response.StatusCode = exception.StatusCode;
                // Where the broken body ends is unknown, so no next request can be read on this connection: close it,
                // as Kestrel does with the 400s it answers itself (left open, Kestrel reads on and fails with a warning).
                context.Response.Headers.Connection = "close";
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new()
                {
                    HttpContext = context,
                    ProblemDetails = { Status = exception.StatusCode, Title = "Malformed request", Detail = "The request's framing or body could not be read." },
                });
            }
            catch (Exception exception) when (exception is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
            {
                // The client went away mid-request; there is nobody to answer.
                if (!context.Response.HasStarted)
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                }
            }
        });

    public static void UseRelayRequestLogging(this WebApplication app) =>
        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            // Only the path is logged (never the query string, which may hold an overlay token).
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : context.Request.Path.StartsWithSegments("/healthz") || context.Request.Path.StartsWithSegments("/readyz") || context.Request.Path.StartsWithSegments("/metrics") ? LogEventLevel.Verbose
                : context.Response.StatusCode < 300 && context.GetEndpoint()?.Metadata.GetMetadata<QuietRequestLog>() is not null ? LogEventLevel.Debug
                : LogEventLevel.Information;
        });
}

internal sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is not reachable.", exception);
        }
    }
}

/// <summary>
/// Endpoint metadata: successful requests to this endpoint are logged at Debug only (acknowledged webhooks can run
/// to thousands a second; the metrics count them, the log keeps the failures).
/// </summary>
internal sealed class QuietRequestLog
{
    public static readonly QuietRequestLog Instance = new();
}
