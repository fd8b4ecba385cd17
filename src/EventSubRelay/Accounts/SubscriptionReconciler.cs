using System.Net;
using System.Text.Json;
using EventSubRelay.Twitch;

namespace EventSubRelay.Accounts;

/// <summary>What one reconciliation did and what it could not do, with Twitch's cost accounting.</summary>
/// <param name="Current">The callback's subscriptions on Twitch after the run: those kept and those created.</param>
internal sealed record ReconcileResult(
    IReadOnlyList<string> Created,
    IReadOnlyList<string> Deleted,
    IReadOnlyDictionary<string, string> Blocked,
    bool LimitReached,
    int TotalCost,
    int MaxTotalCost,
    IReadOnlyList<EventSubSubscriptionInfo> Current);

/// <summary>
/// Brings the app's EventSub subscriptions for one callback in line with the desired set: lists every page, creates what is missing,
/// deletes what is unwanted, recreates failed subscriptions, and leaves blocked the ones whose cause needs the streamer
/// (revoked authorization, removed version). Each Helix call is made at most once per run, so 409 and 429 cannot loop.
/// </summary>
internal sealed class SubscriptionReconciler(HelixClient helix, ILogger<SubscriptionReconciler> logger)
{
    /// <summary>Statuses after which creating the subscription again can succeed without the streamer.</summary>
    private static readonly HashSet<string> Recreatable = ["webhook_callback_verification_failed", "notification_failures_exceeded"];

    private static readonly HashSet<string> Active = ["enabled", "webhook_callback_verification_pending"];

    /// <param name="blocked">Keys (see <see cref="Key(string, string, IEnumerable{KeyValuePair{string, string}})"/>) with the cause that blocks them, from earlier runs.</param>
    public async Task<ReconcileResult> ReconcileAsync(
        IReadOnlyList<CreateEventSubSubscription> desired,
        string callback,
        IReadOnlyDictionary<string, string> blocked,
        CancellationToken cancellationToken)
    {
        var list = await helix.ListEventSubSubscriptionsAsync(cancellationToken);
        var wanted = desired.ToDictionary(d => Key(d.Type, d.Version, d.Condition));
        var newlyBlocked = new Dictionary<string, string>(blocked);
        var present = new HashSet<string>();
        var created = new List<string>();
        var deleted = new List<string>();
        var current = new List<EventSubSubscriptionInfo>();
        var totalCost = list.TotalCost;
        var maxTotalCost = list.MaxTotalCost;

        foreach (var actual in list.Subscriptions.Where(s => s.Transport.Callback == callback))
        {
            var key = Key(actual.Type, actual.Version, actual.Condition.Select(c => KeyValuePair.Create(c.Key, c.Value.ValueKind == JsonValueKind.String ? c.Value.GetString() ?? "" : c.Value.ToString())));
            if (wanted.ContainsKey(key) && Active.Contains(actual.Status) && present.Add(key))
            {
                current.Add(actual);
                continue;
            }

            await helix.DeleteEventSubSubscriptionAsync(actual.Id, cancellationToken);
            deleted.Add(actual.Id);
            if (wanted.ContainsKey(key) && !Active.Contains(actual.Status) && !Recreatable.Contains(actual.Status))
            {
                newlyBlocked[key] = actual.Status;
                logger.LogWarning("EventSub subscription {Type} v{Version} {SubscriptionId} is {Status}; it is not recreated until the streamer acts", actual.Type, actual.Version, actual.Id, actual.Status);
            }
        }

        var limitReached = false;
        foreach (var (key, subscription) in wanted)
        {
            if (present.Contains(key) || newlyBlocked.ContainsKey(key))
            {
                continue;
            }

            if (limitReached)
            {
                break;
            }

            try
            {
                var result = await helix.CreateEventSubSubscriptionAsync(subscription, cancellationToken);
                created.Add(result.Subscription.Id);
                current.Add(result.Subscription);
                totalCost = result.TotalCost;
                maxTotalCost = result.MaxTotalCost;
            }
            catch (TwitchApiException exception) when (exception.Status == HttpStatusCode.Conflict)
            {
                // Created by another instance or an earlier run whose answer was lost: it exists, which is what we want.
            }
            catch (TwitchApiException exception) when (exception.Status == HttpStatusCode.TooManyRequests)
            {
                // The resilience handler already waited for short rate limits; what is left is the cost or count limit. Stop for this run.
                limitReached = true;
            }
            catch (TwitchApiException exception) when (exception.Status is HttpStatusCode.Forbidden or HttpStatusCode.BadRequest)
            {
                newlyBlocked[key] = exception.TwitchMessage;
            }
        }

        return new ReconcileResult(created, deleted, newlyBlocked, limitReached, totalCost, maxTotalCost, current);
    }

    public static string Key(string type, string version, IEnumerable<KeyValuePair<string, string>> condition) =>
        type + "@" + version + "?" + string.Join('&', condition.Where(c => c.Value.Length > 0).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + "=" + c.Value));
}
