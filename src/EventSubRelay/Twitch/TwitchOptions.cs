using System.ComponentModel.DataAnnotations;

namespace EventSubRelay.Twitch;

internal sealed class TwitchOptions
{
    public const string Section = "Twitch";

    /// <summary>
    /// What Twitch's developer console issues as a client id and as a client secret: 30 lowercase letters and digits.
    /// Anything else (a README placeholder such as <c>...</c> or <c>&lt;your-client-id&gt;</c>, a value pasted with
    /// spaces or quotes) would configure an app whose sign-in cannot work, so the relay refuses it at start-up.
    /// </summary>
    internal const string CredentialPattern = "^[a-z0-9]{30}$";

    /// <summary>Empty means "not configured": the relay still ingests and serves overlays.</summary>
    [RegularExpression(CredentialPattern, ErrorMessage = "Twitch:ClientId (environment: Twitch__ClientId, compose: TWITCH_CLIENT_ID) is not a Twitch client id, which is 30 lowercase letters and digits: copy it from your application in the Twitch developer console, or leave it empty to run without a Twitch application.")]
    public string ClientId { get; set; } = "";

    [RegularExpression(CredentialPattern, ErrorMessage = "Twitch:ClientSecret (environment: Twitch__ClientSecret, compose: TWITCH_CLIENT_SECRET) is not a Twitch client secret, which is 30 lowercase letters and digits: create one for your application in the Twitch developer console (New Secret), or leave it empty to run without a Twitch application.")]
    public string ClientSecret { get; set; } = "";

    [Required, Url]
    public string AuthBaseUrl { get; set; } = "https://id.twitch.tv";

    [Required, Url]
    public string HelixBaseUrl { get; set; } = "https://api.twitch.tv/helix";

    /// <summary>The public https URL of POST /eventsub, given to Twitch as the webhook callback; empty until the relay is reachable.</summary>
    public string? PublicCallbackUrl { get; set; }

    /// <summary>How long before expiry the app access token is renewed.</summary>
    public TimeSpan RenewBefore { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the subscriptions are reconciled with Twitch even when nothing changed here.</summary>
    public int ReconcileMinutes { get; set; } = 10;

    /// <summary>How long delivery waits for a profile image, reward details or cheermotes from Helix before sending without them.</summary>
    [Range(1, 10_000)]
    public int EnrichmentTimeoutMilliseconds { get; set; } = 250;

    public bool IsConfigured => ClientId.Length > 0 && ClientSecret.Length > 0;

    internal static Uri WithTrailingSlash(string url) => new(url.EndsWith('/') ? url : url + "/");
}
