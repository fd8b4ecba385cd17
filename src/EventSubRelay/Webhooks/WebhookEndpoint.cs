using System.Buffers;
using System.IO.Pipelines;
using EventSubRelay.Data;
using EventSubRelay.Processing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Webhooks;

/// <summary><c>POST /eventsub</c>: verifies a Twitch EventSub webhook and answers only once it is safe to.</summary>
internal static class WebhookEndpoint
{
    private const string RetryAfterSeconds = "5";

    public static IEndpointConventionBuilder MapEventSubWebhook(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<EventSubOptions>>().Value;
        return endpoints.MapPost(options.CallbackPath, HandleAsync)
            .WithName("EventSubWebhook")
            .DisableAntiforgery()
            .WithMetadata(Operations.QuietRequestLog.Instance);
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        IOptions<EventSubOptions> options,
        TwitchSignature signature,
        NotificationQueue queue,
        TimeProvider time,
        ILogger<EventSubMessage> logger)
    {
        var settings = options.Value;
        var request = context.Request;

        var body = await ReadBodyAsync(context, settings.MaxBodyBytes);
        if (body is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"The body is larger than {settings.MaxBodyBytes} bytes.");
        }

        var messageId = request.Headers[TwitchHeaders.MessageId].ToString();
        var messageType = request.Headers[TwitchHeaders.MessageType].ToString();
        var timestampText = request.Headers[TwitchHeaders.Timestamp].ToString();
        if (messageId.Length == 0 || messageType.Length == 0 || timestampText.Length == 0)
        {
            var missing = new[] { (TwitchHeaders.MessageId, messageId), (TwitchHeaders.MessageType, messageType), (TwitchHeaders.Timestamp, timestampText) }
                .Where(h => h.Item2.Length == 0)
                .Select(h => h.Item1);
            return Problem(StatusCodes.Status400BadRequest, "Missing headers", $"Required headers are missing: {string.Join(", ", missing)}.");
        }

        if (messageId.Length > StorableJson.MaxIdLength)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid message", $"{TwitchHeaders.MessageId} is longer than {StorableJson.MaxIdLength} characters.");
        }

        if (!signature.IsValid(messageId, timestampText, body, request.Headers[TwitchHeaders.Signature].FirstOrDefault()))
        {
            logger.LogWarning("Rejected message {MessageId}: the signature is missing or does not match", messageId);
            return Problem(StatusCodes.Status403Forbidden, "Invalid signature", $"{TwitchHeaders.Signature} is missing or is not sha256=<HMAC-SHA256 of message id, timestamp and body>.");
        }

        if (!TwitchTimestamp.TryParse(timestampText, out var timestamp))
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed timestamp", $"{TwitchHeaders.Timestamp} is not an RFC 3339 timestamp.");
        }

        var now = time.GetUtcNow();
        if (timestamp < now - settings.TimestampTolerance || timestamp > now + settings.TimestampTolerance)
        {
            logger.LogWarning("Rejected message {MessageId}: its timestamp {Timestamp} is outside the accepted window", messageId, timestampText);
            return Problem(StatusCodes.Status403Forbidden, "Stale timestamp", $"{TwitchHeaders.Timestamp} is more than {settings.TimestampTolerance.TotalMinutes:0} minutes from the relay's clock.");
        }

        if (!EventSubMessage.TryParse(messageType, body, out var message, out var error))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid message", error!);
        }

        if (message is NotificationMessage notification)
        {
            // The hot path logs only what goes wrong, each line with its message id: no logging scope to carry along.
            return await SubmitAsync(notification, messageId, timestamp, now, request, queue, logger);
        }

        // Only these two touch the DbContext: notifications go through the queue instead.
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["MessageId"] = messageId });
        return message switch
        {
            VerificationMessage verification => await VerifyAsync(verification, Db(context), now, logger, context.RequestAborted),
            RevocationMessage revocation => await RevokeAsync(revocation, Db(context), now, logger, context.RequestAborted),
            _ => Problem(StatusCodes.Status400BadRequest, "Invalid message", $"Unknown message type '{messageType}'."),
        };
    }

    private static RelayDbContext Db(HttpContext context) => context.RequestServices.GetRequiredService<RelayDbContext>();

    private static async Task<IResult> SubmitAsync(
        NotificationMessage message,
        string messageId,
        DateTimeOffset timestamp,
        DateTimeOffset now,
        HttpRequest request,
        NotificationQueue queue,
        ILogger logger)
    {
        _ = int.TryParse(request.Headers[TwitchHeaders.Retry], out var retryCount);
        var subscription = message.Subscription;
        var notifications = message.Payloads.Count == 1
            ? [new IncomingNotification(messageId, subscription.Id, subscription.Type, subscription.Version, subscription.BroadcasterUserId, timestamp, now, retryCount, message.Payloads[0])]
            : message.Payloads.Select((payload, index) => new IncomingNotification(
                $"{messageId}/{index}", subscription.Id, subscription.Type, subscription.Version, subscription.BroadcasterUserId, timestamp, now, retryCount, payload)).ToList();

        // Answered only after the commit.
        var outcome = await queue.SubmitAsync(notifications);
        if (outcome == StoreOutcome.QueueFull)
        {
            logger.LogWarning("Queue full or shutting down; answered 503 to {MessageId}", messageId);
            return Unavailable("The relay is busy; retry later.");
        }

        if (outcome == StoreOutcome.Unstorable)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "Unstorable notification", "The database refused to store this notification; it will not be stored on retry either.");
        }

        if (outcome != StoreOutcome.Stored)
        {
            return Unavailable("The notification could not be stored; retry later.");
        }

        return TypedResults.NoContent();
    }

    private static async Task<IResult> VerifyAsync(VerificationMessage message, RelayDbContext db, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        logger.LogInformation("Answering the verification challenge of subscription {SubscriptionId} ({SubscriptionType} v{SubscriptionVersion})",
            message.Subscription.Id, message.Subscription.Type, message.Subscription.Version);
        try
        {
            await RecordSubscriptionAsync(db, message.Subscription, "enabled", now, revoked: false, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The record is informational; the challenge must still be answered so Twitch enables the subscription.
            logger.LogWarning(exception, "Could not record subscription {SubscriptionId}", message.Subscription.Id);
        }

        return TypedResults.Text(message.Challenge, "text/plain", System.Text.Encoding.UTF8, StatusCodes.Status200OK);
    }

    private static async Task<IResult> RevokeAsync(RevocationMessage message, RelayDbContext db, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        var subscription = message.Subscription;
        logger.LogWarning("Twitch revoked subscription {SubscriptionId} ({SubscriptionType} v{SubscriptionVersion}) for broadcaster {BroadcasterUserId}: {Status}",
            subscription.Id, subscription.Type, subscription.Version, subscription.BroadcasterUserId, subscription.Status);
        try
        {
            await RecordSubscriptionAsync(db, subscription, subscription.Status, now, revoked: true, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogError(exception, "Could not record the revocation of subscription {SubscriptionId}", subscription.Id);
            return Unavailable("The revocation could not be recorded; retry later.");
        }

        return TypedResults.NoContent();
    }

    private static Task RecordSubscriptionAsync(RelayDbContext db, SubscriptionInfo s, string status, DateTimeOffset now, bool revoked, CancellationToken cancellationToken)
    {
        DateTimeOffset? revokedAt = revoked ? now : null;
        return db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO eventsub_subscriptions (id, type, version, status, broadcaster_user_id, updated_at, revoked_at)
            VALUES ({s.Id}, {s.Type}, {s.Version}, {status}, {s.BroadcasterUserId}, {now}, {revokedAt})
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, revoked_at = excluded.revoked_at
            """,
            cancellationToken);
    }

    /// <summary>Reads the whole body, or returns null when it exceeds <paramref name="limit"/> bytes.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, int limit)
    {
        if (context.Request.ContentLength > limit)
        {
            return null;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var reader = context.Request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                if (result.Buffer.Length > limit)
                {
                    return null;
                }

                if (result.IsCompleted)
                {
                    var body = result.Buffer.ToArray();
                    reader.AdvanceTo(result.Buffer.End);
                    return body;
                }

                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    private static IResult Unavailable(string detail) => new RetryAfterResult(Problem(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail));

    /// <summary>Adds <c>Retry-After</c> to a 503 so Twitch (and people) know when to try again.</summary>
    private sealed class RetryAfterResult(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
