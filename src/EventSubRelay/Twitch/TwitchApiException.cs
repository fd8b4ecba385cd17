using System.Net;

namespace EventSubRelay.Twitch;

/// <summary>Twitch answered with an error; <see cref="TwitchMessage"/> is Twitch's own explanation, safe to log and show.</summary>
internal sealed class TwitchApiException(HttpStatusCode status, string operation, string twitchMessage)
    : Exception($"Twitch {operation} failed with {(int)status}: {twitchMessage}")
{
    public HttpStatusCode Status { get; } = status;

    public string Operation { get; } = operation;

    public string TwitchMessage { get; } = twitchMessage;

    internal static async Task<TwitchApiException> FromResponseAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        var message = "";
        try
        {
            // Twitch errors look like {"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}; the body never echoes tokens.
            var body = await response.Content.ReadFromJsonAsync<TwitchError>(cancellationToken);
            message = body?.Message ?? body?.Error ?? "";
        }
        catch (System.Text.Json.JsonException)
        {
        }
        catch (NotSupportedException)
        {
        }

        return new TwitchApiException(response.StatusCode, operation, message.Length > 0 ? message : response.ReasonPhrase ?? "");
    }

    private sealed record TwitchError(string? Error, int? Status, string? Message);
}
