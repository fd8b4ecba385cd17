using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Twitch;

/// <summary>The OAuth endpoints of id.twitch.tv. Tokens are sent in form bodies and headers only, never in logs.</summary>
internal sealed class TwitchAuthClient(HttpClient http, IOptions<TwitchOptions> options, ILogger<TwitchAuthClient> logger)
{
    private TwitchOptions Options => options.Value;

    public Task<TwitchTokens> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        PostTokenAsync("token refresh", new Dictionary<string, string>
        {
            ["client_id"] = Options.ClientId,
            ["client_secret"] = Options.ClientSecret,
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken,
        }, cancellationToken);

    public Task<TwitchTokens> GetAppAccessTokenAsync(CancellationToken cancellationToken) =>
        PostTokenAsync("client credentials", new Dictionary<string, string>
        {
            ["client_id"] = Options.ClientId,
            ["client_secret"] = Options.ClientSecret,
            ["grant_type"] = "client_credentials",
        }, cancellationToken);

    /// <summary>Returns null when Twitch says the token is no longer valid.</summary>
    public async Task<TokenValidation?> ValidateAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "oauth2/validate");
        request.Headers.Authorization = new AuthenticationHeaderValue("OAuth", accessToken);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            return null;
        }

        await EnsureSuccessAsync(response, "token validation", cancellationToken);
        return await response.Content.ReadFromJsonAsync<TokenValidation>(cancellationToken)
            ?? throw new TwitchApiException(response.StatusCode, "token validation", "empty response");
    }

    /// <summary>Revokes a user token; a token Twitch no longer knows counts as revoked.</summary>
    public async Task RevokeAsync(string token, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = Options.ClientId, ["token"] = token });
        using var response = await http.PostAsync("oauth2/revoke", content, cancellationToken);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            var error = await TwitchApiException.FromResponseAsync(response, "token revocation", cancellationToken);
            logger.LogInformation("Twitch did not revoke the token: {TwitchMessage}", error.TwitchMessage);
            return;
        }

        await EnsureSuccessAsync(response, "token revocation", cancellationToken);
    }

    private async Task<TwitchTokens> PostTokenAsync(string operation, Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent(form);
        using var response = await http.PostAsync("oauth2/token", content, cancellationToken);
        await EnsureSuccessAsync(response, operation, cancellationToken);
        return await response.Content.ReadFromJsonAsync<TwitchTokens>(cancellationToken)
            ?? throw new TwitchApiException(response.StatusCode, operation, "empty response");
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var error = await TwitchApiException.FromResponseAsync(response, operation, cancellationToken);
        logger.LogWarning("Twitch {Operation} failed with {Status}: {TwitchMessage}", operation, (int)error.Status, error.TwitchMessage);
        throw error;
    }
}
