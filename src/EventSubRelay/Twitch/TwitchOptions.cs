using System.ComponentModel.DataAnnotations;

namespace EventSubRelay.Twitch;

internal sealed class TwitchOptions
{
    public const string Section = "Twitch";

    /// <summary>Empty means "not configured": the relay still ingests and serves overlays.</summary>
    public string ClientId { get; set; } = "";

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
