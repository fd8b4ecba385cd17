using Microsoft.AspNetCore.Authentication;

namespace EventSubRelay.Accounts;

/// <summary>
/// Why a Twitch sign-in did not complete, as the few codes the dashboard shows, each with a fixed message. The
/// failure's own text never reaches the page: <c>error_description</c> is whatever the link that brought the browser
/// here says, and a failed code exchange names hosts and Twitch's response. The log has the reason.
/// </summary>
internal static class LoginErrors
{
    public const string Denied = "denied";
    public const string Expired = "expired";
    public const string Failed = "failed";

    private static readonly Dictionary<string, string> Messages = new(StringComparer.Ordinal)
    {
        [Denied] = "You did not authorize the relay on Twitch.",
        [Expired] = "The sign-in expired or was started in another browser. Try again.",
        [Failed] = "Twitch could not be reached or refused the sign-in. Try again; if it keeps failing, the relay's log has the reason.",
    };

    /// <summary>The message for a code the failure redirect set, or null for anything else in the query string.</summary>
    public static string? Message(string? code) => code is null ? null : Messages.GetValueOrDefault(code);

    /// <summary>Classifies a failure of the OAuth handler and logs its reason.</summary>
    public static string Classify(RemoteFailureContext context, ILogger logger)
    {
        var failure = context.Failure;
        var twitchError = failure?.Data["error"] as string;
        var code = twitchError == "access_denied" ? Denied
            // The state did not decode, or its correlation cookie is missing: an old tab, another browser, or a forged link.
            // (The OAuth handler's own messages; tests pin them.)
            : failure is AuthenticationFailureException { Message: "The oauth state was missing or invalid." or "Correlation failed." } ? Expired
            : Failed;
        var description = failure?.Data["error_description"] as string;
        logger.Log(
            code == Failed ? LogLevel.Warning : LogLevel.Information,
            "Twitch sign-in did not complete ({LoginError}): {Reason} {Description}",
            code,
            failure?.Message,
            description);
        return code;
    }
}
