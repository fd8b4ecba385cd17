using EventSubRelay.Data;
using EventSubRelay.Twitch;
using Microsoft.EntityFrameworkCore;

namespace EventSubRelay.Accounts;

/// <summary>
/// Unlinks a channel: deletes its EventSub subscriptions, revokes its token with Twitch, deletes the stored
/// tokens, deletes its overlay tokens (their live connections close within seconds) and, when asked, deletes its
/// stored event history.
/// </summary>
internal sealed class AccountUnlinker(RelayDbContext db, LinkedAccounts accounts, HelixClient helix, TwitchAuthClient auth, SubscriptionSync sync, ILogger<AccountUnlinker> logger)
{
    /// <param name="revokeWithTwitch">
    /// False when Twitch itself reported the authorization revoked: there is no token left to revoke, and Twitch has
    /// already revoked the channel's subscriptions (the next reconciliation deletes them).
    /// </param>
    public async Task<bool> UnlinkAsync(string broadcasterUserId, bool deleteHistory, bool revokeWithTwitch, CancellationToken cancellationToken)
    {
        var account = await accounts.FindAsync(broadcasterUserId, cancellationToken);
        if (account is null)
        {
            return false;
        }

        if (revokeWithTwitch)
        {
            var list = await helix.ListEventSubSubscriptionsAsync(cancellationToken);
            foreach (var subscription in list.Subscriptions.Where(s => s.ChannelUserId == broadcasterUserId))
            {
                await helix.DeleteEventSubSubscriptionAsync(subscription.Id, cancellationToken);
            }

            try
            {
                // A token that can no longer be decrypted cannot be revoked here; it expires on its own.
                if (accounts.AccessToken(account) is { } token)
                {
                    await auth.RevokeAsync(token, cancellationToken);
                }
            }
            catch (TwitchApiException exception)
            {
                // An expired or already revoked token: the link ends here either way.
                logger.LogInformation("Twitch did not revoke the token of {BroadcasterUserId}: {TwitchMessage}", broadcasterUserId, exception.TwitchMessage);
            }
        }

        // All or nothing: a failure half-way must not leave overlay tokens of a channel that is no longer linked.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.LinkedAccounts.Remove(account);
        await db.SaveChangesAsync(cancellationToken);
        await db.SubscriptionBlocks.Where(b => b.BroadcasterUserId == broadcasterUserId).ExecuteDeleteAsync(cancellationToken);
        await db.Subscriptions.Where(s => s.BroadcasterUserId == broadcasterUserId).ExecuteDeleteAsync(cancellationToken);
        // Open overlays of these tokens are closed within seconds (RevokedTokenWatcher).
        await db.OverlayTokens.Where(t => t.BroadcasterUserId == broadcasterUserId).ExecuteDeleteAsync(cancellationToken);
        if (deleteHistory)
        {
            await db.OverlayEvents.Where(e => e.BroadcasterUserId == broadcasterUserId).ExecuteDeleteAsync(cancellationToken);
            await db.Notifications.Where(n => n.BroadcasterUserId == broadcasterUserId).ExecuteDeleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);

        logger.LogInformation("Unlinked {BroadcasterUserId}{History}", broadcasterUserId, deleteHistory ? " and deleted its event history" : "");
        sync.Request();
        return true;
    }
}
