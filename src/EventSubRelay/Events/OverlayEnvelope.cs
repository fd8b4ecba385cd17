using System.Text.Json;
using MessagePack;

namespace EventSubRelay.Events;

/// <summary>What an overlay client receives for each event, as the client method <c>event</c>.</summary>
/// <remarks>The MessagePack keys match the JSON protocol's camel-case names.</remarks>
[MessagePackObject]
public sealed record OverlayEnvelope(
    [property: Key("id")] string Id,
    [property: Key("seq")] long Seq,
    [property: Key("timeStamp")] DateTimeOffset TimeStamp,
    [property: Key("broadcasterUserId")] string BroadcasterUserId,
    [property: Key("isTest")] bool IsTest,
    [property: Key("event")] OverlayEventKind Event,
    [property: Key("data")] JsonElement Data);

[MessagePackObject]
public sealed record OverlayEventKind([property: Key("source")] string Source, [property: Key("type")] string Type)
{
    public static OverlayEventKind Twitch(string type) => new("Twitch", type);
}
