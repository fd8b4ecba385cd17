namespace EventSubRelay.Operations;

/// <summary>
/// <c>EventSubRelay healthcheck</c>: asks the running relay's <c>/healthz</c>, where the configuration says it listens
/// (<see cref="ListenAddresses"/>), and exits 0 when it answers. Container images have no curl; this lets the
/// Dockerfile's HEALTHCHECK use the relay itself.
/// </summary>
internal static class HealthProbe
{
    public static bool IsRequested(string[] args) => args is ["healthcheck", ..];

    public static async Task<int> RunAsync(IConfiguration configuration, TextWriter error)
    {
        var relay = ListenAddresses.Local(configuration)[0];
        // The relay on this machine, dialled by a name its certificate need not carry; the probe sends nothing secret.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri(relay, "/healthz"));
            if (response.IsSuccessStatusCode)
            {
                return 0;
            }

            await error.WriteLineAsync($"healthcheck: {relay} answered {(int)response.StatusCode}.");
            return 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"healthcheck: {relay}: {exception.Message}");
            return 1;
        }
    }
}
