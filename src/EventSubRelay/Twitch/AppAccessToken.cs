namespace EventSubRelay.Twitch;

/// <summary>The app access token (client credentials), cached until shortly before it expires and renewed by one caller at a time.</summary>
/// <remarks>A singleton: it resolves the (transient) typed OAuth client per renewal rather than holding one, so the client's handler keeps rotating.</remarks>
internal sealed class AppAccessToken(IServiceProvider services, TimeProvider time, Microsoft.Extensions.Options.IOptions<TwitchOptions> options) : IDisposable
{
    private readonly SemaphoreSlim renewal = new(1, 1);
    private string? token;
    private DateTimeOffset renewAt;

    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        var current = token;
        if (current is not null && time.GetUtcNow() < renewAt)
        {
            return current;
        }

        await renewal.WaitAsync(cancellationToken);
        try
        {
            if (token is not null && time.GetUtcNow() < renewAt)
            {
                return token;
            }

            var tokens = await services.GetRequiredService<TwitchAuthClient>().GetAppAccessTokenAsync(cancellationToken);
            var lifetime = TimeSpan.FromSeconds(tokens.ExpiresIn);
            var margin = lifetime > options.Value.RenewBefore * 2 ? options.Value.RenewBefore : lifetime / 2;
            renewAt = time.GetUtcNow() + lifetime - margin;
            token = tokens.AccessToken;
            return token;
        }
        finally
        {
            renewal.Release();
        }
    }

    /// <summary>Forget the token after Twitch rejected it with 401, so the next call fetches a new one.</summary>
    public void Invalidate(string rejected)
    {
        Interlocked.CompareExchange(ref token, null, rejected);
    }

    public void Dispose() => renewal.Dispose();
}
