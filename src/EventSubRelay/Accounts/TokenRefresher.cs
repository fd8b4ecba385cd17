using EventSubRelay.Operations;
using EventSubRelay.Twitch;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Accounts;

/// <summary>
/// Refreshes user tokens before they expire. A refresh Twitch refuses (the streamer disconnected the app, or the
/// refresh token is gone) marks the account "needs re-link"; the dashboard shows it.
/// </summary>
internal sealed class TokenRefresher(IServiceScopeFactory scopes, Npgsql.NpgsqlDataSource dataSource, IOptions<TwitchOptions> options, TimeProvider time, ILogger<TokenRefresher> logger)
    : PeriodicJob(TimeSpan.FromMinutes(1), time, logger)
{
    private const long LockKey = 0x4553_5254_4F4B_4E; // "ESRTOKN"

    /// <summary>Tokens that expire within this window are refreshed.</summary>
    public static readonly TimeSpan RefreshBefore = TimeSpan.FromMinutes(10);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) =>
        options.Value.IsConfigured ? RefreshDueAsync(cancellationToken) : Task.CompletedTask;

    /// <summary>
    /// Refreshes every linked account whose token expires soon; returns how many were refreshed. One instance at a
    /// time (a refresh token used twice could be refused the second time); the others skip this round.
    /// </summary>
    public async Task<int> RefreshDueAsync(CancellationToken cancellationToken)
    {
        await using var exclusive = await Data.ClusterLock.TryAcquireAsync(dataSource, LockKey, cancellationToken);
        return exclusive is null ? 0 : await RefreshAsync(cancellationToken);
    }

    private async Task<int> RefreshAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<LinkedAccounts>();
        var auth = scope.ServiceProvider.GetRequiredService<TwitchAuthClient>();
        var refreshed = 0;
        var due = Time.GetUtcNow() + RefreshBefore;
        foreach (var listed in await accounts.ListAsync(cancellationToken))
        {
            // Read again: a re-link since the list was read (on any instance) replaced and revoked the listed tokens.
            if (listed.RelinkReason is not null || listed.ExpiresAt > due
                || await accounts.FindAsync(listed.BroadcasterUserId, cancellationToken) is not { RelinkReason: null } account || account.ExpiresAt > due)
            {
                continue;
            }

            if (accounts.RefreshToken(account) is not { } refreshToken)
            {
                await accounts.MarkNeedsRelinkAsync(account, "The stored refresh token is missing or can no longer be decrypted; link the account again.", cancellationToken);
                continue;
            }

            try
            {
                await accounts.UpdateTokensAsync(account, await auth.RefreshAsync(refreshToken, cancellationToken), cancellationToken);
                refreshed++;
            }
            catch (TwitchApiException exception) when (exception.Status is System.Net.HttpStatusCode.BadRequest or System.Net.HttpStatusCode.Unauthorized)
            {
                logger.LogWarning("Twitch refused to refresh the token of {BroadcasterUserId}: {TwitchMessage}; the account needs a re-link", account.BroadcasterUserId, exception.TwitchMessage);
                await accounts.MarkNeedsRelinkAsync(account, $"Twitch refused to refresh the token ({exception.TwitchMessage}); link the account again.", cancellationToken);
            }
        }

        return refreshed;
    }
}
