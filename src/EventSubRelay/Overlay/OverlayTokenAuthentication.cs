using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Overlay;

/// <summary>
/// Authenticates overlay clients by their token: <c>Authorization: Bearer</c>, or the <c>access_token</c>
/// query parameter SignalR uses for WebSockets and server-sent events.
/// </summary>
internal sealed class OverlayTokenAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    OverlayTokenCache tokens,
    InvalidTokenLimiter limiter) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "OverlayToken";

    /// <summary>The authorization policy of every overlay endpoint: an active overlay token, by this scheme.</summary>
    public const string PolicyName = "OverlayToken";
    public const string BroadcasterClaim = "broadcaster_user_id";
    public const string TokenIdClaim = "overlay_token_id";
    public const string TokenNameClaim = "overlay_token_name";
    private const string RateLimitedKey = "OverlayTokenRateLimited";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedToken();
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }

        // A limited address still gets in with a valid token: a few stale OBS sources must not lock out the streamer's
        // own PC. Only its invalid tokens are refused with 429.
        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var token = await tokens.FindActiveAsync(presented, Context.RequestAborted);
        if (token is null && limiter.IsBlocked(address))
        {
            Context.Items[RateLimitedKey] = true;
            return AuthenticateResult.Fail("Too many invalid overlay tokens from this address.");
        }

        if (token is null)
        {
            limiter.RecordFailure(address);
            return AuthenticateResult.Fail("Invalid or revoked overlay token.");
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(BroadcasterClaim, token.BroadcasterUserId),
                new Claim(TokenIdClaim, token.Id.ToString()),
                new Claim(TokenNameClaim, token.Name),
            ],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.ContainsKey(RateLimitedKey))
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = "60";
            return Task.CompletedTask;
        }

        return base.HandleChallengeAsync(properties);
    }

    private string? PresentedToken()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        var query = Request.Query["access_token"].ToString();
        return query.Length > 0 ? query : null;
    }
}
