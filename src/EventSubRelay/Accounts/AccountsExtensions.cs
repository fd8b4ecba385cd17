using System.Security.Claims;
using System.Text.Json;
using EventSubRelay.Data;
using EventSubRelay.Operations;
using EventSubRelay.Twitch;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Accounts;

/// <summary>The dashboard's sign-in: a cookie, issued after Twitch's OAuth authorization code flow.</summary>
internal static class DashboardAuthentication
{
    public const string CookieScheme = "Dashboard";
    public const string TwitchScheme = "Twitch";

    /// <summary>Set on a challenge to make Twitch ask again even when the app is already authorized (re-link).</summary>
    public const string ForceVerify = "force_verify";

    public static string? BroadcasterUserId(ClaimsPrincipal? user) => user?.FindFirst(ClaimTypes.NameIdentifier)?.Value;
}

internal static class AccountsExtensions
{
    public static void AddAccounts(this IHostApplicationBuilder builder)
    {
        // One key ring for every instance: stored tokens and cookies written by one are readable by all. With a
        // certificate the keys themselves are encrypted, so the database alone is not enough to read the tokens.
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("EventSubRelay").PersistKeysToDbContext<RelayDbContext>();
        if (builder.Configuration["DataProtection:CertificatePath"] is { Length: > 0 } certificatePath)
        {
            dataProtection.ProtectKeysWithCertificate(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(
                certificatePath, builder.Configuration["DataProtection:CertificatePassword"]));
        }

        builder.Services.AddScoped<LinkedAccounts>();
        builder.Services.AddScoped<AccountUnlinker>();
        builder.Services.AddSharedHostedService<SubscriptionSync>();
        builder.Services.AddSharedHostedService<TokenRefresher>();
        builder.Services.AddTransient<SubscriptionReconciler>();
        // Enrichment asks Helix for what notifications leave out, falling back to what the relay has stored.
        builder.Services.AddSingleton<Events.IEventEnricher, HelixEventEnricher>();
        builder.Services.AddSharedHostedService<AuthorizationRevocations>();
        builder.Services.AddSingleton<Events.INotificationObserver>(services => services.GetRequiredService<AuthorizationRevocations>());
        builder.Services.AddRazorPages();

        // Development and tests run on plain http; everywhere else the cookies are Secure (terminate TLS in front of the relay).
        // Each cookie, the antiforgery one too: by default it would be Secure on no request at all.
        var secure = builder.Environment.IsDevelopment() || builder.Environment.IsEnvironment("Testing") ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.SecurePolicy = secure;
            options.Cookie.HttpOnly = true;
        });
        builder.Services.AddAuthentication()
            .AddCookie(DashboardAuthentication.CookieScheme, options =>
            {
                options.Cookie.Name = "eventsubrelay.dashboard";
                options.Cookie.HttpOnly = true;
                options.Cookie.SecurePolicy = secure;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.ExpireTimeSpan = TimeSpan.FromDays(7);
                options.LoginPath = "/dashboard";
            })
            .AddOAuth(DashboardAuthentication.TwitchScheme, options =>
            {
                options.SignInScheme = DashboardAuthentication.CookieScheme;
                options.CallbackPath = "/dashboard/signin-twitch";
                options.UsePkce = false;
                options.CorrelationCookie.SameSite = SameSiteMode.Lax;
                options.CorrelationCookie.SecurePolicy = secure;
                options.Events.OnRedirectToAuthorizationEndpoint = context =>
                {
                    var uri = context.Properties.Items.TryGetValue(DashboardAuthentication.ForceVerify, out var force) && force == "true"
                        ? QueryHelpers.AddQueryString(context.RedirectUri, "force_verify", "true")
                        : context.RedirectUri;
                    context.Response.Redirect(uri);
                    return Task.CompletedTask;
                };
                options.Events.OnCreatingTicket = LinkAsync;
                // A refused consent, a forged or expired state, a failed code exchange: back to the dashboard with a code, not an error page.
                options.Events.OnRemoteFailure = context =>
                {
                    var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LoginErrors));
                    context.Response.Redirect(QueryHelpers.AddQueryString("/dashboard", "loginError", LoginErrors.Classify(context, logger)));
                    context.HandleResponse();
                    return Task.CompletedTask;
                };
            });
        builder.Services.AddOptions<OAuthOptions>(DashboardAuthentication.TwitchScheme).Configure<IOptions<TwitchOptions>>((options, twitch) =>
        {
            var settings = twitch.Value;
            // Without a client id the dashboard says "not configured" and never challenges; the handler still needs values to start.
            options.ClientId = settings.IsConfigured ? settings.ClientId : "not-configured";
            options.ClientSecret = settings.IsConfigured ? settings.ClientSecret : "not-configured";
            options.AuthorizationEndpoint = settings.AuthBaseUrl.TrimEnd('/') + "/oauth2/authorize";
            options.TokenEndpoint = settings.AuthBaseUrl.TrimEnd('/') + "/oauth2/token";
        });
    }

    /// <summary>
    /// The dashboard's middleware, for requests under <c>/dashboard</c> only: its security headers and the
    /// authentication that handles Twitch's OAuth callback. Every other request (webhooks above all) runs no
    /// authentication middleware: the overlay endpoints' policies authenticate their own scheme.
    /// </summary>
    /// <remarks>
    /// <see cref="WebApplication"/> puts an authentication middleware in front of every request unless the app itself
    /// calls <c>UseAuthentication</c>; a call in a branch does not count. So the app is told that authentication is in
    /// place, with the key <c>UseAuthentication</c> sets.
    /// </remarks>
    public static void UseDashboard(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/dashboard"), dashboard => dashboard.UseDashboardMiddleware());
        ((IApplicationBuilder)app).Properties[AuthenticationMiddlewareSetKey] = true;
    }

    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    /// <summary>
    /// Security headers (no framing, so no click-jacking of its forms; forms post only to the relay and Twitch's
    /// sign-in) and the authentication that handles Twitch's OAuth callback.
    /// </summary>
    private static void UseDashboardMiddleware(this IApplicationBuilder app)
    {
        var twitch = app.ApplicationServices.GetRequiredService<IOptions<TwitchOptions>>().Value;
        var policy = $"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https:; form-action 'self' {new Uri(twitch.AuthBaseUrl).GetLeftPart(UriPartial.Authority)}; frame-ancestors 'none'; base-uri 'none'";
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = policy;
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return next(context);
        });
        app.UseAuthentication();
    }

    /// <summary>Twitch answered the authorization: store the link (tokens encrypted) and sign the streamer in as that channel.</summary>
    private static async Task LinkAsync(OAuthCreatingTicketContext context)
    {
        var services = context.HttpContext.RequestServices;
        var user = await services.GetRequiredService<HelixClient>().GetUserAsync(context.AccessToken!, context.HttpContext.RequestAborted);
        var scopes = context.TokenResponse.Response?.RootElement.TryGetProperty("scope", out var scope) == true && scope.ValueKind == JsonValueKind.Array
            ? [.. scope.EnumerateArray().Select(s => s.GetString() ?? "")]
            : Array.Empty<string>();
        var tokens = new TwitchTokens(context.AccessToken!, context.RefreshToken, (int)(context.ExpiresIn?.TotalSeconds ?? 0), scopes, context.TokenType);
        var accounts = services.GetRequiredService<LinkedAccounts>();
        var previous = await accounts.FindAsync(user.Id, context.HttpContext.RequestAborted) is { } existing ? accounts.AccessToken(existing) : null;
        await accounts.LinkAsync(user, tokens, context.HttpContext.RequestAborted);
        services.GetRequiredService<SubscriptionSync>().Request();
        services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AccountsExtensions)).LogInformation(
            "Linked {BroadcasterUserId} ({BroadcasterType}) with scopes {Scopes}", user.Id, user.BroadcasterType, string.Join(' ', scopes));

        // A re-link replaces the token: the old one is revoked, so only one stays valid.
        if (previous is not null && previous != tokens.AccessToken)
        {
            try
            {
                await services.GetRequiredService<TwitchAuthClient>().RevokeAsync(previous, context.HttpContext.RequestAborted);
            }
            catch (TwitchApiException)
            {
                // Already expired or revoked.
            }
        }

        context.Identity!.AddClaim(new Claim(ClaimTypes.NameIdentifier, user.Id));
        context.Identity.AddClaim(new Claim(ClaimTypes.Name, user.DisplayName));
    }
}
