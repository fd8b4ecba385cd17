using System.ComponentModel.DataAnnotations;

namespace EventSubRelay.Overlay;

internal sealed class OverlayOptions
{
    public const string Section = "Overlay";

    /// <summary>A resuming client is sent missed events at most this old.</summary>
    [Range(0, 24 * 60)]
    public int ReplayWindowMinutes { get; set; } = 10;

    /// <summary>A resuming client is sent at most this many missed events (the most recent ones).</summary>
    [Range(0, 10_000)]
    public int ReplayMaxEvents { get; set; } = 200;

    /// <summary>Invalid overlay tokens one address may present per minute before it is refused with 429.</summary>
    [Range(1, 10_000)]
    public int InvalidTokenAttemptsPerMinute { get; set; } = 20;

    /// <summary>Test alerts (<c>POST /api/test-alerts</c>) one overlay token may send per minute before it is refused with 429.</summary>
    [Range(1, 100_000)]
    public int TestAlertsPerMinute { get; set; } = 30;

    /// <summary>
    /// What one overlay connection may have waiting to be sent because its client does not read (SignalR's
    /// <c>TransportMaxBufferSize</c>); a connection with more is dropped at once and resumes when it reconnects.
    /// An alert is about a kilobyte, so a reading client, even on a slow link, is far below it.
    /// </summary>
    [Range(16 * 1024, 256 * 1024 * 1024)]
    public int MaxUnreadBytesPerConnection { get; set; } = 1024 * 1024;

    /// <summary>
    /// Origins whose pages may call the overlay endpoints (<c>null</c> is the origin of a local file); empty or
    /// <c>*</c>: any origin. Tokens, not cookies, authenticate overlays, so no origin is ever sent credentials.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Shorter replay windows per event type, in minutes: a chat line from five minutes ago is noise on
    /// stream, a sub alert is not. Types not listed use <see cref="ReplayWindowMinutes"/>; the defaults come from
    /// the rows of <see cref="Events.EventTypes"/>.
    /// </summary>
    public Dictionary<string, int> ReplayFreshnessMinutes { get; set; } = new(Events.EventTypes.FreshnessMinutes, StringComparer.Ordinal);

    /// <summary>The replay settings as the event store takes them.</summary>
    public Events.ReplayLimits ToReplayLimits() => new(ReplayWindowMinutes, ReplayMaxEvents, ReplayFreshnessMinutes);
}
