using System.ComponentModel.DataAnnotations;

namespace EventSubRelay.StreamerBot;

internal sealed class StreamerBotOptions
{
    public const string Section = "StreamerBot";

    /// <summary>Where Streamer.bot-protocol clients connect (the client's <c>endpoint</c> option).</summary>
    [RegularExpression("^/[A-Za-z0-9/_-]*$")]
    public string Path { get; set; } = "/streamerbot";

    /// <summary>Seconds between WebSocket pings; a client that does not answer one within the same time is dropped.</summary>
    [Range(1, 3600)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>Seconds a client has to authenticate after the Hello before the socket is closed.</summary>
    [Range(1, 600)]
    public int AuthenticateTimeoutSeconds { get; set; } = 30;

    /// <summary>The largest message the relay reads from a client, in bytes; a larger one closes the socket (1009).</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 16 * 1024;

    /// <summary>Events queued for one socket before it is dropped as too slow (it catches up when it reconnects).</summary>
    [Range(16, 100_000)]
    public int MaxQueuedEvents { get; set; } = 1000;
}
