using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSubRelay.Events;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Overlay;

/// <summary>
/// Test alerts: a sample notification for an event type (from <c>Events/test-alerts.json</c>) goes through the
/// catalogue and out to the broadcaster's overlays with <c>isTest: true</c>. Nothing is stored, deduplicated or
/// derived from stored history, and a test alert has <c>seq</c> 0, so it never moves an overlay's resume point.
/// </summary>
internal sealed class TestAlerts(CatalogueMapper mapper, OverlayFanOut fanOut, TimeProvider time)
{
    private static readonly Dictionary<string, Sample> Samples = LoadSamples();

    /// <summary>Every event type a test alert can be sent for.</summary>
    public static IEnumerable<string> Types => Samples.Keys;

    /// <summary>Sends a test alert of <paramref name="type"/> to the broadcaster's overlays; null when there is no such type.</summary>
    public async Task<IReadOnlyList<OverlayEnvelope>?> SendAsync(string broadcasterUserId, string type, CancellationToken cancellationToken)
    {
        if (!Samples.TryGetValue(type, out var sample))
        {
            return null;
        }

        var @event = sample.Event.DeepClone().AsObject();
        foreach (var channelField in (string[])["broadcaster_user_id", "to_broadcaster_user_id", "to_user_id"])
        {
            if (@event.ContainsKey(channelField))
            {
                @event[channelField] = broadcasterUserId;
            }
        }

        var notification = new CommittedNotification($"test-{Guid.NewGuid()}", Seq: 0, sample.Type, sample.Version, broadcasterUserId, time.GetUtcNow(),
            new JsonObject { ["event"] = @event }.ToJsonString());
        var envelopes = (await mapper.MapTestAsync(notification, cancellationToken))
            .Where(e => e.Type == type)
            .Select(e => e.ToEnvelope())
            .ToList();
        foreach (var envelope in envelopes)
        {
            await fanOut.SendAsync(envelope, turn: null, cancellationToken);
        }

        return envelopes;
    }

    private static Dictionary<string, Sample> LoadSamples()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("test-alerts.json")
            ?? throw new InvalidOperationException("The test alert samples are not embedded.");
        return JsonSerializer.Deserialize<Dictionary<string, Sample>>(stream, JsonSerializerOptions.Web)!;
    }

    private sealed record Sample(string Type, string Version, JsonObject Event);
}

/// <summary>
/// <c>POST /api/test-alerts</c> with <c>{ "type": "Follow" }</c>: a test alert for the token's broadcaster, at most
/// <see cref="OverlayOptions.TestAlertsPerMinute"/> per overlay token (not per address: tokens are what callers
/// have, and a streamer's overlays and tools often share one address).
/// </summary>
internal static class TestAlertEndpoint
{
    private const string RateLimitPolicy = "test-alerts";

    /// <summary>The per-token limit; the rate limiting middleware runs after authorization, which sets the token's claims.</summary>
    public static void AddTestAlertLimit(this IServiceCollection services) =>
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(RateLimitPolicy, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<OverlayOptions>>().Value.TestAlertsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    context.User.FindFirst(OverlayTokenAuthentication.TokenIdClaim)?.Value ?? "",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
            options.OnRejected = RefuseAsync;
        });

    public static void MapTestAlerts(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/api/test-alerts", SendAsync).RequireRateLimiting(RateLimitPolicy);

    private static async ValueTask RefuseAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var perMinute = context.RequestServices.GetRequiredService<IOptions<OverlayOptions>>().Value.TestAlertsPerMinute;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many test alerts",
                Detail = $"An overlay token may send {perMinute} test alerts a minute; try again in {Math.Ceiling(retryAfter.TotalSeconds)} s.",
            },
        });
    }

    private static async Task<Results<Ok<TestAlertResult>, ProblemHttpResult>> SendAsync(TestAlertRequest? request, HttpContext context, TestAlerts alerts, CancellationToken cancellationToken)
    {
        if (request?.Type is not { Length: > 0 } type)
        {
            return TypedResults.Problem(title: "Missing event type", detail: "Send { \"type\": \"Follow\" } with one of the catalogue's event types.", statusCode: StatusCodes.Status400BadRequest);
        }

        var broadcaster = context.User.FindFirst(OverlayTokenAuthentication.BroadcasterClaim)!.Value;
        return await alerts.SendAsync(broadcaster, type, cancellationToken) is { } sent
            ? TypedResults.Ok(new TestAlertResult([.. sent.Select(e => e.Id)]))
            : TypedResults.Problem(title: "Unknown event type", detail: $"There is no test alert for '{type}'. Known types: {string.Join(", ", TestAlerts.Types)}.", statusCode: StatusCodes.Status400BadRequest);
    }
}

public sealed record TestAlertRequest(string? Type);

public sealed record TestAlertResult(IReadOnlyList<string> Ids);
