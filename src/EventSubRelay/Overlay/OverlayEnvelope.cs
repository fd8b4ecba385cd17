using System.Text.Json;

namespace EventSubRelay.Overlay;

/// <summary>What an overlay client receives for each event, as the client method <c>event</c>.</summary>
public sealed record OverlayEnvelope(
    string Id,
    long Seq,
    DateTimeOffset TimeStamp,
    string BroadcasterUserId,
    bool IsTest,
    OverlayEventKind Event,
    JsonElement Data);

public sealed record OverlayEventKind(string Source, string Type)
{
    public static OverlayEventKind Twitch(string type) => new("Twitch", type);
}

/// <summary>The names of the methods the relay calls on overlay clients.</summary>
public static class OverlayClientMethods
{
    public const string Event = "event";
}

/// <summary>SignalR groups: one per broadcaster and event type, and one per broadcaster for "all types".</summary>
internal static class OverlayGroups
{
    public const string AllTypes = "*";

    public static string For(string broadcasterUserId, string type) => $"{broadcasterUserId}|{type}";
}
