using System.Buffers;
using System.Text.Json;
using EventSubRelay.Events;
using EventSubRelay.Overlay;

namespace EventSubRelay.StreamerBot;

/// <summary>What the relay says to Streamer.bot clients, as UTF-8 JSON text frames.</summary>
internal static class StreamerBotFrames
{
    /// <summary>Requests only the Streamer.bot application can answer (its actions, viewers, variables, chat): an error, the socket stays open.</summary>
    public static readonly HashSet<string> ApplicationRequests = new(StringComparer.Ordinal)
    {
        "GetActions", "DoAction", "GetActiveViewers", "GetCredits", "TestCredits", "ClearCredits", "GetCodeTriggers",
        "ExecuteCodeTrigger", "GetCommands", "TwitchGetEmotes", "YouTubeGetEmotes", "GetGlobals", "GetGlobal",
        "TwitchGetUserGlobals", "TwitchGetUserGlobal", "YouTubeGetUserGlobals", "YouTubeGetUserGlobal",
        "TrovoGetUserGlobals", "TrovoGetUserGlobal", "KickGetUserGlobals", "KickGetUserGlobal", "SendMessage",
        "GetMonitoredYouTubeBroadcasts",
    };

    public static byte[] Hello(StreamerBotInfo info, string challenge, DateTimeOffset now) => Write(writer =>
    {
        writer.WriteString("timestamp", now);
        writer.WriteString("session", Guid.NewGuid());
        writer.WriteString("request", "Hello");
        WriteInfo(writer, info);
        writer.WriteStartObject("authentication");
        // Empty: the client's secret is then base64 of the stored token hash (see StreamerBotAuthentication).
        writer.WriteString("salt", "");
        writer.WriteString("challenge", challenge);
        writer.WriteEndObject();
    });

    public static byte[] Ok(JsonElement? id) => Response(id, "ok", _ => { });

    public static byte[] Error(JsonElement? id, string error) => Response(id, "error", writer => writer.WriteString("error", error));

    public static byte[] Info(JsonElement? id, StreamerBotInfo info) => Response(id, "ok", writer => WriteInfo(writer, info));

    public static byte[] Events(JsonElement? id, string[] types) => Response(id, "ok", writer =>
    {
        writer.WriteStartObject("events");
        WriteTypes(writer, types);
        writer.WriteEndObject();
    });

    public static byte[] Subscriptions(JsonElement? id, string[] types) => Events(id, types);

    public static byte[] Broadcaster(JsonElement? id, string broadcasterUserId, (string Login, string DisplayName, string Type)? account) => Response(id, "ok", writer =>
    {
        writer.WriteStartArray("connected");
        writer.WriteStringValue("twitch");
        writer.WriteEndArray();
        writer.WriteStartArray("disconnected");
        writer.WriteEndArray();
        writer.WriteStartObject("platforms");
        writer.WriteStartObject("twitch");
        writer.WriteString("broadcastUser", account?.DisplayName ?? "");
        writer.WriteString("broadcastUserName", account?.Login ?? "");
        writer.WriteString("broadcastUserId", broadcasterUserId);
        // The client's type and Streamer.bot's docs spell these differently: both are sent.
        var affiliate = account?.Type == "affiliate";
        var partner = account?.Type == "partner";
        writer.WriteBoolean("broadcastIsAffiliate", affiliate);
        writer.WriteBoolean("broadcastIsPartner", partner);
        writer.WriteBoolean("broadcasterIsAffiliate", affiliate);
        writer.WriteBoolean("broadcasterIsPartner", partner);
        writer.WriteEndObject();
        writer.WriteEndObject();
    });

    /// <summary>The relay does not look pronouns up; <c>userFound: false</c> keeps widgets that await the answer working.</summary>
    public static byte[] Pronouns(JsonElement? id, string login) => Response(id, "ok", writer =>
    {
        writer.WriteString("userLogin", login.Length > 100 ? login[..100] : login);
        writer.WriteStartObject("pronoun");
        writer.WriteBoolean("userFound", false);
        writer.WriteString("pronouns", "");
        writer.WriteString("pronounSubject", "");
        writer.WriteString("pronounObject", "");
        writer.WriteEndObject();
    });

    /// <summary>
    /// An event: Streamer.bot's frame with the hub's <c>data</c>. The relay's own fields go under one key: a top-level
    /// <c>id</c>, <c>status</c> or <c>info</c> would be taken by clients for a response.
    /// </summary>
    public static byte[] Event(OverlayEnvelope envelope) => Write(writer =>
    {
        writer.WriteString("timeStamp", envelope.TimeStamp);
        writer.WriteStartObject("event");
        writer.WriteString("source", envelope.Event.Source);
        writer.WriteString("type", envelope.Event.Type);
        writer.WriteEndObject();
        writer.WritePropertyName("data");
        envelope.Data.WriteTo(writer);
        writer.WriteStartObject("eventSubRelay");
        writer.WriteString("id", envelope.Id);
        writer.WriteNumber("seq", envelope.Seq);
        writer.WriteBoolean("isTest", envelope.IsTest);
        writer.WriteEndObject();
    });

    private static byte[] Response(JsonElement? id, string status, Action<Utf8JsonWriter> body) => Write(writer =>
    {
        if (id is { } value)
        {
            writer.WritePropertyName("id");
            value.WriteTo(writer);
        }

        writer.WriteString("status", status);
        body(writer);
    });

    private static void WriteTypes(Utf8JsonWriter writer, string[] types)
    {
        writer.WriteStartArray(StreamerBotSubscriptions.Source);
        foreach (var type in types)
        {
            writer.WriteStringValue(type);
        }

        writer.WriteEndArray();
    }

    private static void WriteInfo(Utf8JsonWriter writer, StreamerBotInfo info)
    {
        writer.WriteStartObject("info");
        writer.WriteString("instanceId", info.InstanceId);
        writer.WriteString("name", "EventSubRelay");
        writer.WriteString("version", StreamerBotInfo.Version);
        writer.WriteString("os", info.Os);
        writer.WriteString("osVersion", info.OsVersion);
        writer.WriteString("mode", "service");
        writer.WriteBoolean("darkMode", true);
        writer.WriteString("source", "websocketServer");
        writer.WriteEndObject();
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>What Hello and GetInfo say about the relay.</summary>
/// <param name="InstanceId">Stable per deployment (derived from the database), so widgets see one server.</param>
internal sealed record StreamerBotInfo(string InstanceId, string Os, string OsVersion)
{
    /// <summary>The Streamer.bot version whose WebSocket protocol the relay speaks.</summary>
    public const string Version = "0.2.5";
}
