using EventSubRelay.Twitch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Tests;

public sealed class TwitchOptionsTests
{
    private const string RealLooking = "uo6dggojyb8d6soh92zknwmi5ej1q2";

    [Theory]
    [InlineData("...")]
    [InlineData("<your-client-id>")]
    [InlineData("your-client-id")]
    [InlineData("YOUR_TWITCH_CLIENT_ID")]
    [InlineData("uo6dggojyb8d6soh92zknwmi5ej1q")]
    [InlineData("uo6dggojyb8d6soh92zknwmi5ej1q2x")]
    [InlineData("Uo6dggojyb8d6soh92zknwmi5ej1q2")]
    [InlineData(" uo6dggojyb8d6soh92zknwmi5ej1q2")]
    public void A_client_id_that_cannot_be_real_is_refused_naming_the_setting(string clientId)
    {
        var failure = Validate(clientId, RealLooking);

        failure.Should().Contain("Twitch:ClientId").And.Contain("Twitch__ClientId").And.Contain("30 lowercase letters and digits").And.NotContain("Twitch:ClientSecret");
    }

    [Theory]
    [InlineData("...")]
    [InlineData("<your-client-secret>")]
    [InlineData("your-client-secret")]
    public void A_client_secret_that_cannot_be_real_is_refused_naming_the_setting_without_echoing_it(string secret)
    {
        var failure = Validate(RealLooking, secret);

        failure.Should().Contain("Twitch:ClientSecret").And.Contain("TWITCH_CLIENT_SECRET").And.NotContain(secret);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData(RealLooking, RealLooking)]
    public void No_app_or_credentials_shaped_like_twitch_s_are_accepted(string clientId, string secret) =>
        Validate(clientId, secret).Should().BeNull();

    /// <summary>The options as the relay binds and validates them at start-up; the failure message, or null.</summary>
    private static string? Validate(string clientId, string secret)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Twitch:ClientId"] = clientId, ["Twitch:ClientSecret"] = secret });
        builder.AddTwitch();
        using var host = builder.Build();
        try
        {
            _ = host.Services.GetRequiredService<IOptions<TwitchOptions>>().Value;
            return null;
        }
        catch (OptionsValidationException exception)
        {
            return string.Join(" ", exception.Failures);
        }
    }
}
