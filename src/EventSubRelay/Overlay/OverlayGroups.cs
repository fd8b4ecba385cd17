namespace EventSubRelay.Overlay;

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
