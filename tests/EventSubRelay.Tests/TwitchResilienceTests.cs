using System.Net;
using EventSubRelay.Twitch;

namespace EventSubRelay.Tests;

public sealed class TwitchResilienceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_429_waits_until_Ratelimit_Reset()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.Add("Ratelimit-Reset", Now.AddSeconds(3).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));

        TwitchExtensions.RateLimitDelay(response, Now).Should().Be(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void A_far_Ratelimit_Reset_is_capped_and_a_past_one_retries_at_once()
    {
        using var far = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        far.Headers.Add("Ratelimit-Reset", Now.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var past = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        past.Headers.Add("Ratelimit-Reset", Now.AddSeconds(-5).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));

        TwitchExtensions.RateLimitDelay(far, Now).Should().Be(TimeSpan.FromSeconds(10));
        TwitchExtensions.RateLimitDelay(past, Now).Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void Other_failures_leave_the_delay_to_the_jittered_back_off()
    {
        using var unavailable = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);

        TwitchExtensions.RateLimitDelay(unavailable, Now).Should().BeNull();
        TwitchExtensions.RateLimitDelay(null, Now).Should().BeNull();
    }
}
