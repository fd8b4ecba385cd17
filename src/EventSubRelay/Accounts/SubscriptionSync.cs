using System.Diagnostics.Metrics;
using System.Threading.Channels;
using EventSubRelay.Data;
using EventSubRelay.Twitch;
using EventSubRelay.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSubRelay.Accounts;

/// <summary>
/// Keeps Twitch's EventSub subscriptions in line with what linked streamers chose: at start-up, every
/// <c>Twitch:ReconcileMinutes</c>, and soon after a link, toggle change or unlink. One instance at a time runs it
/// (a PostgreSQL advisory lock: the others wait their turn); the outcome (blocked causes, statuses) is stored for the dashboard.
/// </summary>
internal sealed class SubscriptionSync : BackgroundService
{
    private const long LockKey = 0x4553_5253_594E_43; // "ESRSYNC"
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly IServiceScopeFactory _scopes;
    private readonly NpgsqlDataSource _dataSource;
    private readonly IOptions<TwitchOptions> _twitch;
    private readonly IOptions<EventSubOptions> _eventSub;
    private readonly TimeProvider _time;
    private readonly ILogger<SubscriptionSync> _logger;
    private ReconcileResult? _last;

    public SubscriptionSync(
        IServiceScopeFactory scopes,
        NpgsqlDataSource dataSource,
        IOptions<TwitchOptions> twitch,
        IOptions<EventSubOptions> eventSub,
        TimeProvider time,
        IMeterFactory meterFactory,
        ILogger<SubscriptionSync> logger)
    {
        (_scopes, _dataSource, _twitch, _eventSub, _time, _logger) = (scopes, dataSource, twitch, eventSub, time, logger);

        // Twitch's cost accounting as of the last reconciliation on this instance, for alerts before the limit is reached.
        var meter = meterFactory.Create(Operations.OperationsExtensions.MeterName);
        meter.CreateObservableGauge("eventsubrelay.eventsub.total_cost", () => _last?.TotalCost ?? 0, description: "Total cost of the app's EventSub subscriptions.");
        meter.CreateObservableGauge("eventsubrelay.eventsub.max_total_cost", () => _last?.MaxTotalCost ?? 0, description: "The most the app's EventSub subscriptions may cost.");
    }

    /// <summary>Asks for a reconciliation soon (after a link, toggle change or unlink).</summary>
    public void Request() => _requests.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMinutes(Math.Max(1, _twitch.Value.ReconcileMinutes));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SyncAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                _logger.LogWarning(exception, "Reconciling EventSub subscriptions failed; trying again within {Interval}", interval);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(interval);
            try
            {
                await _requests.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The interval passed: reconcile anyway, to repair what changed on Twitch's side.
            }
        }
    }

    /// <summary>Runs one reconciliation (after any other instance's run); null when Twitch is not configured or there is no public callback.</summary>
    public async Task<ReconcileResult?> SyncAsync(CancellationToken cancellationToken)
    {
        var options = _twitch.Value;
        if (!options.IsConfigured || options.PublicCallbackUrl is not { Length: > 0 } callback || _eventSub.Value.Secret is not { Length: > 0 } secret)
        {
            return null;
        }

        await using (await ClusterLock.AcquireAsync(_dataSource, LockKey, cancellationToken))
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RelayDbContext>();
            var started = _time.GetUtcNow();
            var accounts = await db.LinkedAccounts.AsNoTracking().ToListAsync(cancellationToken);
            var owners = new Dictionary<string, string>();
            var desired = new List<CreateEventSubSubscription> { SubscriptionCatalogue.AuthorizationRevoke(options.ClientId, callback, secret) };
            foreach (var account in accounts)
            {
                foreach (var subscription in SubscriptionCatalogue.Desired(account.BroadcasterUserId, LinkedAccounts.Events(account), callback, secret))
                {
                    desired.Add(subscription);
                    owners[SubscriptionReconciler.Key(subscription.Type, subscription.Version, subscription.Condition)] = account.BroadcasterUserId;
                }
            }

            // A block stands until the streamer acts: one observed before the account's last re-link or change is tried again.
            var changedAt = accounts.ToDictionary(a => a.BroadcasterUserId, a => a.UpdatedAt);
            var blocked = (await db.SubscriptionBlocks.AsNoTracking().ToListAsync(cancellationToken))
                .Where(b => b.BroadcasterUserId is null || changedAt.TryGetValue(b.BroadcasterUserId, out var at) && at <= b.At)
                .ToDictionary(b => b.Key, b => b.Cause);
            var result = await scope.ServiceProvider.GetRequiredService<SubscriptionReconciler>().ReconcileAsync(desired, callback, blocked, cancellationToken);

            // Causes that need the streamer are kept (and shown), dated by when this run read the accounts: an account
            // re-linked or changed since then has its blocked subscriptions tried again. Those no longer wanted are forgotten.
            await db.SubscriptionBlocks.ExecuteDeleteAsync(cancellationToken);
            db.SubscriptionBlocks.AddRange(result.Blocked
                .Where(b => owners.ContainsKey(b.Key) || b.Key.StartsWith("user.authorization.revoke@", StringComparison.Ordinal))
                .Select(b => new SubscriptionBlock { Key = b.Key, BroadcasterUserId = owners.GetValueOrDefault(b.Key), Cause = b.Value, At = started }));
            await db.SaveChangesAsync(cancellationToken);
            await RecordStatusesAsync(result.Current, cancellationToken);

            _last = result;
            _logger.LogInformation("Reconciled EventSub subscriptions: {Created} created, {Deleted} deleted, {Blocked} blocked, cost {TotalCost}/{MaxTotalCost}{Limit}",
                result.Created.Count, result.Deleted.Count, result.Blocked.Count, result.TotalCost, result.MaxTotalCost, result.LimitReached ? " (limit reached)" : "");
            return result;
        }
    }

    /// <summary>
    /// Stores each subscription's status as Twitch reported it in this run, for the dashboard. A verification the
    /// relay has answered since (recorded as enabled by the webhook endpoint) is not turned back into pending, and
    /// revocations, recorded as they arrive, are kept.
    /// </summary>
    private async Task RecordStatusesAsync(IReadOnlyList<EventSubSubscriptionInfo> current, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await using var batch = _dataSource.CreateBatch();
        var gone = new NpgsqlBatchCommand("DELETE FROM eventsub_subscriptions WHERE revoked_at IS NULL AND NOT (id = ANY(@ids))");
        gone.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. current.Select(s => s.Id)]));
        batch.BatchCommands.Add(gone);
        foreach (var subscription in current)
        {
            var command = new NpgsqlBatchCommand("""
                INSERT INTO eventsub_subscriptions (id, type, version, status, broadcaster_user_id, updated_at)
                VALUES (@id, @type, @version, @status, @broadcaster, @now)
                ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at,
                    status = CASE WHEN eventsub_subscriptions.status = 'enabled' AND excluded.status = 'webhook_callback_verification_pending'
                                  THEN eventsub_subscriptions.status ELSE excluded.status END
                """);
            command.Parameters.Add(new NpgsqlParameter<string>("id", subscription.Id));
            command.Parameters.Add(new NpgsqlParameter<string>("type", subscription.Type));
            command.Parameters.Add(new NpgsqlParameter<string>("version", subscription.Version));
            command.Parameters.Add(new NpgsqlParameter<string>("status", subscription.Status));
            command.Parameters.Add(new NpgsqlParameter("broadcaster", (object?)subscription.ChannelUserId ?? DBNull.Value));
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now.ToUniversalTime()));
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
