using System.Text.Json;
using System.Threading.Channels;
using EventSubRelay.Events;

namespace EventSubRelay.Accounts;

/// <summary>
/// <c>user.authorization.revoke</c>: a streamer disconnected the app on Twitch, so the relay unlinks the account
/// (off the delivery path; the notification is stored before it gets here).
/// </summary>
internal sealed class AuthorizationRevocations(IServiceScopeFactory scopes, ILogger<AuthorizationRevocations> logger) : BackgroundService, INotificationObserver
{
    public const string SubscriptionType = "user.authorization.revoke";

    private readonly Channel<string> _users = Channel.CreateUnbounded<string>();

    /// <summary>Raised after a revocation was handled, with the user id and whether an account was unlinked.</summary>
    public event Action<string, bool>? Handled;

    /// <summary>Takes note of a revocation notification; other notifications are ignored.</summary>
    public void Observe(CommittedNotification notification)
    {
        if (notification.SubscriptionType != SubscriptionType)
        {
            return;
        }

        using var payload = JsonDocument.Parse(notification.PayloadJson);
        if (payload.RootElement.TryGetProperty("event", out var e) && e.TryGetProperty("user_id", out var user) && user.GetString() is { Length: > 0 } userId)
        {
            _users.Writer.TryWrite(userId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var userId in _users.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var unlinked = await scope.ServiceProvider.GetRequiredService<AccountUnlinker>().UnlinkAsync(userId, deleteHistory: false, revokeWithTwitch: false, stoppingToken);
                logger.LogInformation("Twitch reported that {UserId} revoked the app's authorization; {Outcome}", userId, unlinked ? "the account was unlinked" : "no account was linked");
                Handled?.Invoke(userId, unlinked);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(exception, "Unlinking {UserId} after Twitch revoked the authorization failed", userId);
            }
        }
    }
}
