using EventSubRelay.Data;
using EventSubRelay.Processing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using OpenTelemetry.Metrics;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace EventSubRelay.Operations;

internal static class OperationsExtensions
{
    /// <summary>Serilog: readable console output in Development, JSON lines elsewhere.</summary>
    public static void AddRelayLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, configuration) =>
        {
            configuration
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .MinimumLevel.Information()
                // Hosting logs full request URLs, which would carry overlay tokens in query strings.
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
                .Enrich.FromLogContext();

            if (builder.Environment.IsDevelopment())
            {
                configuration.WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                configuration.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
        },
        // Each host keeps its own logger instead of the process-wide Log.Logger, so relays running side by side (tests) do not log into each other.
        preserveStaticLogger: true);
    }

    /// <summary>Health checks and OpenTelemetry metrics (Prometheus format at /metrics).</summary>
    public static void AddRelayOperations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RelayMetrics>();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<QueueHealthCheck>("queue", tags: ["ready"]);

        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddMeter(RelayMetrics.MeterName)
            .AddPrometheusExporter());
    }

    public static void MapRelayOperations(this WebApplication app)
    {
        // Liveness: the process answers. Readiness: it can take webhooks.
        app.MapHealthChecks("/healthz", new() { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new() { Predicate = check => check.Tags.Contains("ready") });
        app.MapPrometheusScrapingEndpoint("/metrics");
    }

    public static void UseRelayRequestLogging(this WebApplication app) =>
        app.UseSerilogRequestLogging(options =>
        {
            // Only the path is logged (never the query string, which may hold an overlay token).
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : context.Request.Path.StartsWithSegments("/healthz") || context.Request.Path.StartsWithSegments("/readyz") || context.Request.Path.StartsWithSegments("/metrics") ? LogEventLevel.Verbose
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

internal sealed class QueueHealthCheck(NotificationQueue queue) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(queue.IsSaturated
            ? HealthCheckResult.Unhealthy($"The ingest queue is saturated ({queue.Count} of {queue.Capacity}).")
            : HealthCheckResult.Healthy($"{queue.Count} of {queue.Capacity} queued."));
}
