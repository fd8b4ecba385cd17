using EventSubRelay.Accounts;
using EventSubRelay.Data;
using EventSubRelay.Overlay;
using EventSubRelay.Twitch;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Pages.Dashboard;

/// <summary>
/// The streamer's dashboard: log in with Twitch, choose events, overlay URLs, test alerts, recent events,
/// connected overlays and the state of each EventSub subscription.
/// </summary>
internal sealed class IndexModel(
    IOptions<TwitchOptions> twitch,
    RelayDbContext db,
    LinkedAccounts accounts,
    AccountUnlinker unlinker,
    SubscriptionSync sync,
    OverlayTokens overlayTokens,
    TestAlerts testAlerts,
    OverlayStatusReport overlayStatus) : PageModel
{
    public bool Configured => twitch.Value.IsConfigured;

    public string? BroadcasterUserId { get; private set; }

    public LinkedAccount? Account { get; private set; }

    public IReadOnlyList<Events.DashboardGroup> Groups { get; private set; } = [];

    public IReadOnlyList<string> MissingScopes { get; private set; } = [];

    public IReadOnlyList<OverlayToken> Tokens { get; private set; } = [];

    public IReadOnlyList<EventSubSubscription> Subscriptions { get; private set; } = [];

    public IReadOnlyList<SubscriptionBlock> Blocks { get; private set; } = [];

    public IReadOnlyList<OverlayConnectionStatus> Connections { get; private set; } = [];

    public IReadOnlyList<StoredOverlayEvent> RecentEvents { get; private set; } = [];

    /// <summary>The channel's latest notifications that delivery set aside, with why.</summary>
    public IReadOnlyList<StoredNotification> DeadLetters { get; private set; } = [];

    [BindProperty(SupportsGet = true)]
    public string? Type { get; set; }

    /// <summary>A new overlay URL, shown once (only its hash is stored).</summary>
    public string? NewOverlayUrl { get; private set; }

    public string? Message { get; private set; }

    /// <summary>Why the last Twitch sign-in failed: a code set by the OAuth handler's failure redirect.</summary>
    [BindProperty(SupportsGet = true)]
    public string? LoginError { get; set; }

    /// <summary>The fixed message of a known <see cref="LoginError"/> code; any other text in the query string shows nothing.</summary>
    public string? LoginErrorMessage => LoginErrors.Message(LoginError);

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public IActionResult OnPostLogin(bool relink)
    {
        if (!Configured)
        {
            return RedirectToPage();
        }

        var events = Account is not { } account ? LinkedAccounts.DefaultEvents.Select(k => SubscriptionCatalogue.ByKey[k]) : LinkedAccounts.Events(account);
        var properties = new OAuthChallengeProperties { RedirectUri = Url.Page("/Dashboard/Index") };
        properties.SetScope([.. SubscriptionCatalogue.Scopes(events)]);
        if (relink)
        {
            properties.Items[DashboardAuthentication.ForceVerify] = "true";
        }

        return Challenge(properties, DashboardAuthentication.TwitchScheme);
    }

    public async Task<IActionResult> OnPostEventsAsync(string[] events, CancellationToken cancellationToken)
    {
        if (Account is not { } account)
        {
            return RedirectToPage();
        }

        await accounts.ChooseEventsAsync(account, events, cancellationToken);
        sync.Request();
        await LoadAsync(cancellationToken);
        Message = MissingScopes.Count > 0 ? "Saved. Some chosen events need permissions Twitch has not granted yet: re-link to grant them." : "Saved. Twitch subscriptions are being updated.";
        return Page();
    }

    public async Task<IActionResult> OnPostCreateTokenAsync(string name, CancellationToken cancellationToken)
    {
        if (Account is not { } account)
        {
            return RedirectToPage();
        }

        var (_, secret) = await overlayTokens.CreateAsync(account.BroadcasterUserId, string.IsNullOrWhiteSpace(name) ? "overlay" : name.Trim(), cancellationToken);
        await LoadAsync(cancellationToken);
        NewOverlayUrl = $"{Request.Scheme}://{Request.Host}/overlay#token={Uri.EscapeDataString(secret)}";
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeTokenAsync(Guid id, CancellationToken cancellationToken)
    {
        if (Account is { } account && await db.OverlayTokens.AnyAsync(t => t.Id == id && t.BroadcasterUserId == account.BroadcasterUserId, cancellationToken))
        {
            await overlayTokens.RevokeAsync(id, cancellationToken);
        }

        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostTestAsync(string testType, CancellationToken cancellationToken)
    {
        if (Account is not { } account)
        {
            return RedirectToPage();
        }

        var sent = await testAlerts.SendAsync(account.BroadcasterUserId, testType, cancellationToken);
        await LoadAsync(cancellationToken);
        Message = sent is null ? $"There is no test alert for '{testType}'." : $"Sent a test {testType} alert to your overlays.";
        return Page();
    }

    public async Task<IActionResult> OnPostUnlinkAsync(bool deleteHistory, CancellationToken cancellationToken)
    {
        if (Account is { } account)
        {
            await unlinker.UnlinkAsync(account.BroadcasterUserId, deleteHistory, revokeWithTwitch: true, cancellationToken);
        }

        await HttpContext.SignOutAsync(DashboardAuthentication.CookieScheme);
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostLogoutAsync()
    {
        await HttpContext.SignOutAsync(DashboardAuthentication.CookieScheme);
        return RedirectToPage();
    }

    public override async Task OnPageHandlerExecutionAsync(Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutingContext context, Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutionDelegate next)
    {
        var signedIn = await HttpContext.AuthenticateAsync(DashboardAuthentication.CookieScheme);
        BroadcasterUserId = DashboardAuthentication.BroadcasterUserId(signedIn.Principal);
        if (BroadcasterUserId is not null)
        {
            Account = await accounts.FindAsync(BroadcasterUserId, HttpContext.RequestAborted);
        }

        await next();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (Account is not { } account)
        {
            return;
        }

        var broadcaster = account.BroadcasterUserId;
        Groups = [.. SubscriptionCatalogue.Groups.Where(g => !g.AffiliateOnly || LinkedAccounts.IsAffiliateOrPartner(account))];
        MissingScopes = LinkedAccounts.MissingScopes(account);
        Tokens = await db.OverlayTokens.AsNoTracking().Where(t => t.BroadcasterUserId == broadcaster && t.RevokedAt == null).OrderBy(t => t.CreatedAt).ToListAsync(cancellationToken);
        Subscriptions = await db.Subscriptions.AsNoTracking().Where(s => s.BroadcasterUserId == broadcaster).OrderBy(s => s.Type).ToListAsync(cancellationToken);
        Blocks = await db.SubscriptionBlocks.AsNoTracking().Where(b => b.BroadcasterUserId == broadcaster && b.At >= account.UpdatedAt).OrderBy(b => b.Key).ToListAsync(cancellationToken);
        Connections = (await overlayStatus.ForAsync(broadcaster, cancellationToken)).Connections;
        var events = db.OverlayEvents.AsNoTracking().Where(e => e.BroadcasterUserId == broadcaster);
        if (!string.IsNullOrEmpty(Type))
        {
            events = events.Where(e => e.Type == Type);
        }

        RecentEvents = await events.OrderByDescending(e => e.Seq).Take(25).ToListAsync(cancellationToken);
        DeadLetters = await db.Notifications.AsNoTracking()
            .Where(n => n.BroadcasterUserId == broadcaster && n.DeadLetteredAt != null)
            .OrderByDescending(n => n.DeadLetteredAt).Take(10).ToListAsync(cancellationToken);
    }
}
