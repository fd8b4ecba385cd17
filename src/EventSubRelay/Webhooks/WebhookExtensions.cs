using Microsoft.Extensions.Options;

namespace EventSubRelay.Webhooks;

internal static class WebhookExtensions
{
    public static void AddWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EventSubOptions>()
            .BindConfiguration(EventSubOptions.Section)
            .ValidateDataAnnotations()
            .Validate(
                o => o.PreviousSecrets.All(s => s.Length is >= 10 and <= 100),
                "Every EventSub:PreviousSecrets entry must be 10 to 100 characters long.")
            .ValidateOnStart();
        builder.Services.AddSingleton(services => new TwitchSignature(services.GetRequiredService<IOptions<EventSubOptions>>().Value.AcceptedSecrets()));
    }
}
