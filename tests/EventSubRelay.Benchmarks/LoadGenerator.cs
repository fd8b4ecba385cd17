using System.Diagnostics;
using System.Net;

namespace EventSubRelay.Benchmarks;

/// <summary>What one target did during the measured window.</summary>
internal sealed record LoadResult(
    string Target,
    TimeSpan Measured,
    long Acknowledged,
    long AcknowledgedInWholeRun,
    IReadOnlyDictionary<string, long> Errors,
    double P50Milliseconds,
    double P99Milliseconds)
{
    /// <summary>CPU used during the measured window; filled in by the caller, who knows the processes.</summary>
    public CpuSample Cpu { get; init; } = CpuSample.Empty;

    public double RequestsPerSecond => Acknowledged / Measured.TotalSeconds;

    public long ErrorCount => Errors.Values.Sum();
}

/// <summary>
/// A closed-loop load generator: <c>concurrency</c> workers, each sending one request at a time over
/// its own keep-alive connection and the next as soon as the answer arrives. Only answers that arrive
/// inside the measured window count; answers during the warm-up before it are discarded.
/// </summary>
internal static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(
        string target,
        Uri endpoint,
        FollowNotifications notifications,
        BenchmarkOptions options,
        CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };

        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(options.WarmupSeconds * (double)Stopwatch.Frequency);
        var measureUntil = measureFrom + (long)(options.Seconds * (double)Stopwatch.Frequency);

        var workers = Enumerable.Range(0, options.Concurrency)
            .Select(_ => Task.Run(() => WorkAsync(client, endpoint, notifications, measureFrom, measureUntil, cancellationToken), cancellationToken))
            .ToList();
        var samples = await Task.WhenAll(workers);

        var latencies = samples.SelectMany(s => s.Latencies).ToArray();
        Array.Sort(latencies);
        var errors = samples
            .SelectMany(s => s.Errors)
            .GroupBy(e => e.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(e => e.Value), StringComparer.Ordinal);
        return new LoadResult(
            target,
            TimeSpan.FromSeconds(options.Seconds),
            latencies.Length,
            samples.Sum(s => s.AcknowledgedInWholeRun),
            errors,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.99));
    }

    private static async Task<WorkerSamples> WorkAsync(
        HttpClient client,
        Uri endpoint,
        FollowNotifications notifications,
        long measureFrom,
        long measureUntil,
        CancellationToken cancellationToken)
    {
        var samples = new WorkerSamples();
        while (!cancellationToken.IsCancellationRequested)
        {
            using var request = notifications.Create(endpoint);
            var sent = Stopwatch.GetTimestamp();
            if (sent >= measureUntil)
            {
                break;
            }

            string? error;
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
                error = response.StatusCode == HttpStatusCode.NoContent ? null : $"HTTP {(int)response.StatusCode}";
            }
            catch (HttpRequestException exception)
            {
                error = exception.HttpRequestError.ToString();
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                error = "Timeout";
            }

            var answered = Stopwatch.GetTimestamp();
            if (error is null)
            {
                samples.AcknowledgedInWholeRun++;
            }

            if (answered < measureFrom || answered > measureUntil)
            {
                continue;
            }

            if (error is null)
            {
                samples.Latencies.Add(answered - sent);
            }
            else
            {
                samples.Errors[error] = samples.Errors.GetValueOrDefault(error) + 1;
            }
        }

        return samples;
    }

    private static double Percentile(long[] sorted, double fraction) =>
        sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(fraction * sorted.Length) - 1)] * 1000.0 / Stopwatch.Frequency;

    private sealed class WorkerSamples
    {
        public List<long> Latencies { get; } = new(capacity: 4096);
        public long AcknowledgedInWholeRun { get; set; }
        public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);
    }
}
