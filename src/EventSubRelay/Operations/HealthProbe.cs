namespace EventSubRelay.Operations;

/// <summary>
/// <c>EventSubRelay healthcheck</c>: asks the running relay's <c>/healthz</c> and exits 0 when it answers.
/// Container images have no curl; this lets the Dockerfile's HEALTHCHECK use the relay itself.
/// </summary>
internal static class HealthProbe
{
    public static bool IsRequested(string[] args) => args is ["healthcheck", ..];

    public static async Task<int> RunAsync()
    {
        var port = Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS")?.Split(';', ',')[0] is { Length: > 0 } configured ? configured : "8080";
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"healthcheck: {exception.Message}");
            return 1;
        }
    }
}
