namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>The usual start of an overlay test: a token for the broadcaster, a connected overlay, and its subscription.</summary>
public static class SubscribedOverlay
{
    /// <summary>
    /// Creates a token for <paramref name="broadcasterUserId"/>, connects an overlay with it and subscribes to
    /// <paramref name="types"/> ("*" when none are given). The token is <see cref="OverlayClient.Token"/>.
    /// </summary>
    public static async Task<OverlayClient> SubscribedOverlayAsync(this RelayFactory relay, string broadcasterUserId, params string[] types) =>
        await ConnectAsync(relay.BaseAddress, await relay.CreateOverlayTokenAsync(broadcasterUserId), afterSeq: null, types);

    /// <summary>Connects an overlay with an existing token and subscribes to <paramref name="types"/> ("*" when none are given).</summary>
    public static Task<OverlayClient> ConnectSubscribedAsync(this RelayFactory relay, string token, long? afterSeq = null, params string[] types) =>
        ConnectAsync(relay.BaseAddress, token, afterSeq, types);

    /// <summary>Connects an overlay with an existing token to the relay at <paramref name="baseAddress"/> and subscribes to <paramref name="types"/> ("*" when none are given).</summary>
    public static async Task<OverlayClient> ConnectAsync(Uri baseAddress, string token, long? afterSeq = null, params string[] types)
    {
        var overlay = await OverlayClient.ConnectAsync(baseAddress, token, afterSeq);
        try
        {
            await overlay.SubscribeAsync(types.Length == 0 ? ["*"] : types);
            return overlay;
        }
        catch
        {
            await overlay.DisposeAsync();
            throw;
        }
    }
}
