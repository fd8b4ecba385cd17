using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSubRelay.Events;
using Microsoft.AspNetCore.Http.HttpResults;

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

/// <summary><c>POST /api/test-alerts</c> with <c>{ "type": "Follow" }</c>: a test alert for the token's broadcaster.</summary>
internal static class TestAlertEndpoint
{
    public static void MapTestAlerts(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/api/test-alerts", SendAsync);

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
