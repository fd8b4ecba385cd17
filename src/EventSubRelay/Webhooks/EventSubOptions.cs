using System.ComponentModel.DataAnnotations;

namespace EventSubRelay.Webhooks;

internal sealed class EventSubOptions
{
    public const string Section = "EventSub";

    /// <summary>Where Twitch posts webhooks.</summary>
    [Required, RegularExpression("^/.*", ErrorMessage = "EventSub:CallbackPath must start with '/'.")]
    public string CallbackPath { get; set; } = "/eventsub";

    /// <summary>The secret given to Twitch when subscribing; Twitch allows 10 to 100 characters.</summary>
    [Required(ErrorMessage = "EventSub:Secret is required: the webhook secret (10-100 characters) used when creating EventSub subscriptions.")]
    [StringLength(100, MinimumLength = 10, ErrorMessage = "EventSub:Secret must be 10 to 100 characters long.")]
    public string Secret { get; set; } = "";

    /// <summary>Secrets still accepted while subscriptions created with them are replaced.</summary>
    public List<string> PreviousSecrets { get; set; } = [];

    [Range(1024, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How far a message timestamp may be from now, in either direction.</summary>
    public TimeSpan TimestampTolerance { get; set; } = TimeSpan.FromMinutes(10);

    public IEnumerable<string> AcceptedSecrets() => PreviousSecrets.Prepend(Secret);
}
