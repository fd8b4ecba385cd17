namespace EventSubRelay.Overlay;

/// <summary>
/// One lane per broadcaster: work given for a broadcaster runs after the work given for it before (its events go
/// out in sequence order), while different broadcasters' lanes run side by side, so one broadcaster's slow
/// sends or storm of joining overlays never holds up another's alerts. Delivery sends in them; the backplane
/// hands the other instances' events over in lanes of its own.
/// </summary>
internal sealed class BroadcasterLanes
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Task> _tails = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="work"/> once the broadcaster's earlier work has finished, however that ended.</summary>
    public Task Run(string broadcasterUserId, Func<Task> work)
    {
        lock (_lock)
        {
            var next = AfterAsync(_tails.GetValueOrDefault(broadcasterUserId) ?? Task.CompletedTask, work);
            _tails[broadcasterUserId] = next;
            _ = ForgetWhenDoneAsync(broadcasterUserId, next);
            return next;
        }
    }

    /// <summary>Completes when every lane has finished the work given so far.</summary>
    public async Task IdleAsync()
    {
        Task[] tails;
        lock (_lock)
        {
            tails = [.. _tails.Values];
        }

        await Task.WhenAll(tails).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static async Task AfterAsync(Task previous, Func<Task> work)
    {
        // Always yields, so the work never runs under the lock.
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ForceYielding);
        await work();
    }

    private async Task ForgetWhenDoneAsync(string broadcasterUserId, Task tail)
    {
        await tail.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (_lock)
        {
            if (_tails.TryGetValue(broadcasterUserId, out var current) && current == tail)
            {
                _tails.Remove(broadcasterUserId);
            }
        }
    }
}
