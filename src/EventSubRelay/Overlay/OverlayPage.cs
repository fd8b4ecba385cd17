namespace EventSubRelay.Overlay;

/// <summary>
/// The default alert overlay at <c>/overlay</c>. Its files (and the official SignalR browser client,
/// restored from npm by the build) are embedded in the assembly, so the page ships with the relay.
/// </summary>
internal static class OverlayPage
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["overlay.js"] = "text/javascript; charset=utf-8",
        ["overlay.css"] = "text/css; charset=utf-8",
        ["signalr.min.js"] = "text/javascript; charset=utf-8",
    };

    public static void MapOverlayPage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/overlay", (HttpContext context) => Serve(context, "index.html"));
        endpoints.MapGet("/overlay/{file}", (HttpContext context, string file) => Serve(context, file));
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!ContentTypes.TryGetValue(file, out var contentType)
            || typeof(OverlayPage).Assembly.GetManifestResourceStream($"OverlayPage/{file}") is not { } content)
        {
            return TypedResults.NotFound();
        }

        // The page only runs its own scripts; browser sources must always pick up a new version.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self' ws: wss:";
        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Stream(content, contentType);
    }
}
