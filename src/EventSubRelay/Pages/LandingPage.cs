using Microsoft.AspNetCore.Http.HttpResults;

namespace EventSubRelay.Pages;

/// <summary>
/// <c>/</c>: what someone who opens the relay's address finds (the dashboard, the overlay page, the docs, health),
/// and <c>/docs/…</c>: the README and the docs of the relay's own version, as Markdown.
/// </summary>
internal static class LandingPage
{
    private const string Html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>EventSubRelay</title>
          <meta name="viewport" content="width=device-width, initial-scale=1">
        </head>
        <body>
          <h1>EventSubRelay</h1>
          <p>Receives Twitch EventSub webhooks and pushes each event to the overlays of the streamer it belongs to.</p>
          <ul>
            <li><a id="dashboard" href="/dashboard">Dashboard</a>: link your Twitch channel, choose events, create overlay URLs, send test alerts</li>
            <li><a id="overlay" href="/overlay">Overlay page</a>: the ready alert box; add <code>/overlay#token=&lt;overlay token&gt;</code> as an OBS browser source</li>
            <li>Docs: <a id="docs" href="/docs/README.md">README</a> (setup, connecting to Twitch, commands, settings),
              <a href="/docs/events.md">events</a>, <a href="/docs/overlay-api.md">overlay API</a></li>
            <li>Health: <a id="health" href="/healthz">/healthz</a> (alive), <a href="/readyz">/readyz</a> (database and queue), <a href="/metrics">/metrics</a></li>
          </ul>
        </body>
        </html>
        """;

    public static void MapLandingPage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (HttpContext context) =>
        {
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
            return TypedResults.Content(Html, "text/html; charset=utf-8");
        });
        endpoints.MapGet("/docs/{file}", Results<FileStreamHttpResult, NotFound> (string file) =>
            typeof(LandingPage).Assembly.GetManifestResourceStream($"docs/{file}") is { } content
                ? TypedResults.Stream(content, "text/markdown; charset=utf-8")
                : TypedResults.NotFound());
    }
}
