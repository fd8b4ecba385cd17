using System.Text.Json;
using System.Text.Json.Nodes;
using EventSubRelay.Processing;
using Npgsql;

namespace EventSubRelay.Events;

/// <summary>
/// Maps each notification with <see cref="EventCatalogue"/>, then adds what needs the channel's history:
/// a stream update's previous title and category, a chatter's first words in the stream, a hype train's
/// new level. Whatever cannot be mapped is still delivered, as <c>Raw</c>. Test alerts (<see cref="MapTestAsync"/>)
/// are mapped the same way but never read or write that history and carry no deduplication key.
/// </summary>
internal sealed class CatalogueMapper(
    DerivationState state,
    IEventEnricher enricher,
    Microsoft.Extensions.Options.IOptions<Twitch.TwitchOptions> options,
    ILogger<CatalogueMapper> logger) : IOverlayEventMapper
{
    /// <summary>How long delivery waits for enrichment before sending without it (<c>Twitch:EnrichmentTimeoutMilliseconds</c>).</summary>
    private TimeSpan EnrichmentTimeout => TimeSpan.FromMilliseconds(options.Value.EnrichmentTimeoutMilliseconds);

    public ValueTask<IReadOnlyList<OverlayEvent>> MapAsync(CommittedNotification notification, CancellationToken cancellationToken) =>
        MapAsync(notification, test: false, cancellationToken);

    /// <summary>
    /// Maps a sample notification as a test alert: <c>isTest</c> is set, nothing is deduplicated and the stored
    /// history is neither read nor changed; derived events are made as if the history called for them.
    /// </summary>
    public ValueTask<IReadOnlyList<OverlayEvent>> MapTestAsync(CommittedNotification notification, CancellationToken cancellationToken) =>
        MapAsync(notification, test: true, cancellationToken);

    private async ValueTask<IReadOnlyList<OverlayEvent>> MapAsync(CommittedNotification notification, bool test, CancellationToken cancellationToken)
    {
        if (notification.BroadcasterUserId is not { } broadcaster)
        {
            return [];
        }

        using var payload = JsonDocument.Parse(notification.PayloadJson);
        var @event = payload.RootElement.TryGetProperty("event", out var e) ? e : default;
        (string Type, JsonObject Data) mapped;
        try
        {
            mapped = EventCatalogue.Map(notification.SubscriptionType, notification.SubscriptionVersion, @event);
        }
        catch (Exception exception) when (exception is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            // A payload that does not look like Twitch documents it: nothing is dropped, it goes out as it came.
            logger.LogWarning(exception, "Notification {MessageId} of type {SubscriptionType} v{SubscriptionVersion} could not be mapped; delivering it as Raw",
                notification.MessageId, notification.SubscriptionType, notification.SubscriptionVersion);
            mapped = EventCatalogue.RawEvent(notification.SubscriptionType, notification.SubscriptionVersion, @event);
        }

        if (test && mapped.Data.ContainsKey("isTest"))
        {
            mapped.Data["isTest"] = true;
        }

        // Derivations complete the event's data (previous title, gifter, enrichment) and may add events after it
        // (first words, level-up); the event itself is serialized once, when its data is final.
        var derived = new List<OverlayEvent>();
        if (mapped.Type != OverlayTypes.Raw)
        {
            try
            {
                if (test)
                {
                    await DeriveTestAsync(notification, broadcaster, @event, mapped, derived, cancellationToken);
                }
                else
                {
                    await DeriveAsync(notification, broadcaster, @event, mapped, derived, cancellationToken);
                }
            }
            catch (Exception exception) when (exception is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // A derivation that does not fit the payload: the event goes out as mapped. Database errors are not caught
                // here: the delivery worker retries the batch, so no derived event is lost to an outage.
                logger.LogWarning(exception, "Derived events of notification {MessageId} could not be built; delivering it as mapped", notification.MessageId);
                derived.Clear();
            }
        }

        return [Prepare(notification, notification.MessageId, mapped.Type, mapped.Data, test), .. derived];
    }

    private async Task DeriveAsync(CommittedNotification notification, string broadcaster, JsonElement e, (string Type, JsonObject Data) mapped, List<OverlayEvent> derived, CancellationToken cancellationToken)
    {
        switch (mapped.Type)
        {
            case OverlayTypes.StreamUpdate:
                var previous = await state.ReplaceChannelInfoAsync(notification.MessageId, broadcaster, EventCatalogue.Text(e, "title"), EventCatalogue.Text(e, "category_id"), EventCatalogue.Text(e, "category_name"), cancellationToken);
                mapped.Data["oldStatus"] = previous.Title;
                mapped.Data["oldGame"] = EventCatalogue.Game(previous.CategoryId, previous.CategoryName);
                break;

            // The recipients' gifted subs of a gift (a bomb, or a single gift) claim it, so they carry its gifter.
            case OverlayTypes.GiftBomb or OverlayTypes.GiftSub when notification.SubscriptionType == "channel.subscription.gift":
                var anonymous = mapped.Data["isAnonymous"]!.GetValue<bool>();
                await state.OpenGiftBombAsync(notification.MessageId, broadcaster, mapped.Data["subTier"]!.GetValue<int>(),
                    anonymous ? null : EventCatalogue.Text(e, "user_id"), anonymous ? null : EventCatalogue.Text(e, "user_login"), anonymous ? null : EventCatalogue.Text(e, "user_name"), anonymous,
                    Math.Max(1, EventCatalogue.Int(e, "total") ?? 1), notification.MessageTimestamp, cancellationToken);
                break;

            // A recipient's gifted sub that belongs to a bomb is shown as part of it, with the gifter, not as its own alert.
            case OverlayTypes.GiftSub when notification.SubscriptionType == "channel.subscribe"
                && await state.ClaimGiftAsync(notification.MessageId, broadcaster, mapped.Data["subTier"]!.GetValue<int>(), notification.MessageTimestamp, cancellationToken) is { } bomb:
                mapped.Data["isAnonymous"] = bomb.IsAnonymous;
                mapped.Data["fromSubBomb"] = true;
                mapped.Data["subBombCount"] = bomb.Total;
                mapped.Data["userId"] = long.TryParse(bomb.GifterUserId, out var gifter) ? gifter : null;
                mapped.Data["userName"] = bomb.GifterLogin;
                mapped.Data["displayName"] = bomb.GifterName;
                if (bomb.IsAnonymous)
                {
                    EventCatalogue.Anonymize(mapped.Data);
                }

                break;

            case OverlayTypes.StreamOnline when EventCatalogue.Text(e, "id") is { } streamId:
                await state.StartStreamAsync(broadcaster, streamId, cancellationToken);
                break;

            case OverlayTypes.ChatMessage when EventCatalogue.Text(e, "chatter_user_id") is { } chatter && await state.RecordChatterAsync(notification.MessageId, broadcaster, chatter, cancellationToken):
                derived.Add(FirstWord(notification, mapped.Data, test: false));
                break;

            case OverlayTypes.HypeTrainStart or OverlayTypes.HypeTrainUpdate when EventCatalogue.Text(e, "id") is { } trainId:
                var level = mapped.Data["level"]!.GetValue<int>();
                var before = await state.RaiseHypeTrainLevelAsync(notification.MessageId, trainId, broadcaster, level, cancellationToken);
                // A level-up is known only from a level seen before: of a train first seen in progress, nothing rose.
                if (mapped.Type == OverlayTypes.HypeTrainUpdate && before > 0 && level > before)
                {
                    derived.Add(LevelUp(notification, e, before, test: false));
                }

                break;
        }

        await EnrichMappedAsync(broadcaster, e, mapped, cancellationToken);
    }

    /// <summary>Fields that come from Twitch's API rather than the notification, when the enricher has them in time.</summary>
    private async Task EnrichMappedAsync(string broadcaster, JsonElement e, (string Type, JsonObject Data) mapped, CancellationToken cancellationToken)
    {
        switch (mapped.Type)
        {
            case OverlayTypes.RewardRedemption or OverlayTypes.RewardRedemptionUpdated when mapped.Data["rewardId"]?.GetValue<string>() is { } rewardId
                && await EnrichAsync(ct => enricher.RewardAsync(broadcaster, rewardId, ct), cancellationToken) is { } reward:
                mapped.Data["backgroundColor"] = reward.BackgroundColor;
                mapped.Data["inputRequired"] = reward.InputRequired;
                mapped.Data["enabled"] = reward.Enabled;
                mapped.Data["paused"] = reward.Paused;
                break;

            case OverlayTypes.Raid when EventCatalogue.Text(e, "from_broadcaster_user_id") is { } raider
                && await EnrichAsync(ct => enricher.ProfileImageAsync(raider, ct), cancellationToken) is { } image:
                mapped.Data["profileImage"] = image;
                break;

            case OverlayTypes.Cheer or OverlayTypes.ChatMessage when CheerEmotes(mapped.Data) is { Count: > 0 } cheermotes
                && await EnrichAsync(ct => CheermoteLooksAsync(broadcaster, cheermotes, ct), cancellationToken) is { } looks:
                // Applied here, not in the lookup: a lookup that outlives its timeout must not change data already sent.
                foreach (var (cheermote, (color, imageUrl)) in cheermotes.Zip(looks).Where(c => c.Second.Color is not null || c.Second.ImageUrl is not null))
                {
                    cheermote["color"] = color;
                    cheermote["imageUrl"] = imageUrl;
                }

                break;
        }
    }

    private static List<JsonObject>? CheerEmotes(JsonObject data) =>
        data["message"] is JsonObject message && message["cheerEmotes"] is JsonArray emotes ? [.. emotes.OfType<JsonObject>()] : null;

    /// <summary>Each cheermote's colour and image for the tier its bits reach.</summary>
    private async Task<List<(string? Color, string? ImageUrl)>?> CheermoteLooksAsync(string broadcaster, List<JsonObject> cheermotes, CancellationToken cancellationToken)
    {
        var requests = cheermotes.Select(c => (Name: c["name"]!.GetValue<string>(), Bits: c["bits"]?.GetValue<int>() ?? 0)).ToList();
        var looks = new List<(string?, string?)>(requests.Count);
        foreach (var (name, bits) in requests)
        {
            looks.Add(await enricher.CheermoteAsync(broadcaster, name, bits, cancellationToken));
        }

        return looks;
    }

    /// <summary>A test alert's derived events, made from the notification alone: stored history is never touched.</summary>
    private async Task DeriveTestAsync(CommittedNotification notification, string broadcaster, JsonElement e, (string Type, JsonObject Data) mapped, List<OverlayEvent> derived, CancellationToken cancellationToken)
    {
        switch (mapped.Type)
        {
            case OverlayTypes.ChatMessage:
                derived.Add(FirstWord(notification, mapped.Data, test: true));
                break;

            case OverlayTypes.HypeTrainUpdate when mapped.Data["level"]!.GetValue<int>() is > 1 and var level:
                derived.Add(LevelUp(notification, e, level - 1, test: true));
                break;
        }

        await EnrichMappedAsync(broadcaster, e, mapped, cancellationToken);
    }

    private static OverlayEvent FirstWord(CommittedNotification notification, JsonObject chat, bool test)
    {
        var message = chat["message"]!;
        return Prepare(notification, $"{notification.MessageId}:FirstWord", OverlayTypes.FirstWord, new JsonObject
        {
            ["message"] = message["message"]!.DeepClone(),
            ["action"] = false,
            ["user"] = new JsonObject
            {
                ["id"] = message["userId"]?.DeepClone(),
                ["login"] = message["username"]?.DeepClone(),
                ["display_name"] = message["displayName"]?.DeepClone(),
                ["subscribed"] = message["subscriber"]!.DeepClone(),
                ["role"] = message["role"]!.DeepClone(),
            },
        }, test);
    }

    private static OverlayEvent LevelUp(CommittedNotification notification, JsonElement e, int previousLevel, bool test)
    {
        var levelUp = new JsonObject { ["prevLevel"] = previousLevel };
        foreach (var (name, value) in EventCatalogue.HypeTrain(e, update: true).Where(p => p.Key != "userId"))
        {
            levelUp[name] = value?.DeepClone();
        }

        return Prepare(notification, $"{notification.MessageId}:LevelUp", OverlayTypes.HypeTrainLevelUp, levelUp, test);
    }

    /// <summary>Asks the enricher, but never for longer than <see cref="EnrichmentTimeout"/>; no answer in time is no answer.</summary>
    private async Task<T?> EnrichAsync<T>(Func<CancellationToken, Task<T?>> lookup, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(EnrichmentTimeout);
        try
        {
            return await lookup(timeout.Token).WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("Enrichment took longer than {Timeout}; delivering without it", EnrichmentTimeout);
            return default;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Twitch's API down, a circuit open, a database error: enrichment is optional, delivery is not.
            logger.LogWarning(exception, "Enrichment failed; delivering without it");
            return default;
        }
    }

    /// <summary>How close in time two reports of one moderator action are (Twitch sends both within a second or so); see <see cref="Dedup"/>.</summary>
    private static readonly TimeSpan SameActionWindow = TimeSpan.FromSeconds(10);

    private static OverlayEvent Prepare(CommittedNotification notification, string id, string type, JsonObject data, bool test = false) =>
        new(id, notification.MessageId, notification.BroadcasterUserId!, type, test, notification.MessageTimestamp, JsonSerializer.SerializeToElement(data),
            DedupKey: test ? null : DedupKey(type, data, notification.MessageTimestamp));

    private static string? DedupKey(string type, JsonObject data, DateTimeOffset at) =>
        EventTypes.DedupKey(type, data, window: at.ToUnixTimeMilliseconds() / (long)SameActionWindow.TotalMilliseconds);
}
