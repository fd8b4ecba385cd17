using System.Globalization;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace EventSubRelay.Twitch;

internal static class TwitchExtensions
{
    public static void AddTwitch(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TwitchOptions>()
            .BindConfiguration(TwitchOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.ClientId.Length > 0 == o.ClientSecret.Length > 0, "Twitch:ClientId and Twitch:ClientSecret are set together or not at all.")
            .Validate(
                o => string.IsNullOrEmpty(o.PublicCallbackUrl) || Uri.TryCreate(o.PublicCallbackUrl, UriKind.Absolute, out var url) && url.Scheme is "https" or "http",
                "Twitch:PublicCallbackUrl must be an absolute URL (Twitch requires https on port 443).")
            .ValidateOnStart();

        builder.Services.AddSingleton<AppAccessToken>();

        builder.Services.AddHttpClient<TwitchAuthClient>((services, http) =>
                http.BaseAddress = TwitchOptions.WithTrailingSlash(services.GetRequiredService<IOptions<TwitchOptions>>().Value.AuthBaseUrl))
            .AddStandardResilienceHandler(ConfigureResilience);

        builder.Services.AddHttpClient<HelixClient>((services, http) =>
                http.BaseAddress = TwitchOptions.WithTrailingSlash(services.GetRequiredService<IOptions<TwitchOptions>>().Value.HelixBaseUrl))
            .AddStandardResilienceHandler(ConfigureResilience);
    }

    /// <summary>Retries 5xx, 408 and 429 with jittered exponential back-off; on 429 waits until Twitch's Ratelimit-Reset.</summary>
    internal static void ConfigureResilience(HttpStandardResilienceOptions options)
    {
        options.Retry.MaxRetryAttempts = 3;
        options.Retry.UseJitter = true;
        options.Retry.BackoffType = DelayBackoffType.Exponential;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        // A 429 without Ratelimit-Reset is Twitch's subscription count/cost limit, which waiting does not lift: do not retry it.
        options.Retry.ShouldHandle = args => ValueTask.FromResult(
            args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests
                ? args.Outcome.Result.Headers.Contains("Ratelimit-Reset")
                : HttpClientResiliencePredicates.IsTransient(args.Outcome));
        options.Retry.DelayGenerator = args => ValueTask.FromResult(RateLimitDelay(args.Outcome.Result, TimeProvider.System.GetUtcNow()));
        options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(10);
        options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(45);
        options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);
    }

    /// <summary>The wait Twitch asks for on 429 (Ratelimit-Reset is a Unix time in seconds), capped; null lets the back-off decide.</summary>
    internal static TimeSpan? RateLimitDelay(HttpResponseMessage? response, DateTimeOffset now)
    {
        if (response?.StatusCode != HttpStatusCode.TooManyRequests
            || !response.Headers.TryGetValues("Ratelimit-Reset", out var values)
            || !long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var reset))
        {
            return null;
        }

        var wait = DateTimeOffset.FromUnixTimeSeconds(reset) - now;
        return wait <= TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : wait;
    }
}
