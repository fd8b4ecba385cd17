using EventSubRelay.Webhooks;

namespace EventSubRelay.Tests;

public sealed class TwitchTimestampTests
{
    private static readonly DateTimeOffset Whole = new(2026, 11, 24, 10, 11, 12, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-11-24T10:11:12Z", 0)]
    [InlineData("2026-11-24T10:11:12.1Z", 1_000_000)]
    [InlineData("2026-11-24T10:11:12.12Z", 1_200_000)]
    [InlineData("2026-11-24T10:11:12.123456Z", 1_234_560)]
    [InlineData("2026-11-24T10:11:12.1234567Z", 1_234_567)]
    [InlineData("2026-11-24T10:11:12.12345678Z", 1_234_567)]
    [InlineData("2026-11-24T10:11:12.123456789Z", 1_234_567)]
    [InlineData("2026-11-24T11:11:12.5+01:00", 5_000_000)]
    public void Parses_zero_to_nine_fraction_digits(string text, long ticksAfterSecond)
    {
        TwitchTimestamp.TryParse(text, out var parsed).Should().BeTrue();
        parsed.Should().Be(Whole.AddTicks(ticksAfterSecond));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2026-11-24")]
    [InlineData("2026-11-24T10:11:12")]
    [InlineData("2026-11-24T10:11:12.Z")]
    [InlineData("2026-11-24T10:11:12.1234567890Z")]
    [InlineData("2026-11-24 10:11:12Z")]
    [InlineData("2026-13-24T10:11:12Z")]
    [InlineData("yesterday at noon")]
    [InlineData("1732443072")]
    public void Rejects_what_is_not_an_RFC_3339_timestamp(string? text)
    {
        TwitchTimestamp.TryParse(text, out _).Should().BeFalse();
    }
}
