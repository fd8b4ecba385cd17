using System.Buffers;

namespace EventSubRelay.Benchmarks;

/// <summary>
/// The baseline: Kestrel with one endpoint that reads the whole body, as the relay does, and answers 204.
/// It runs in a child process like the relay, with the same runtime settings (workstation GC), so the two
/// differ only in what the relay does with the body.
/// </summary>
internal static class BareServer
{
    public const string Command = "bare-server";

    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        var app = builder.Build();

        app.MapPost("/eventsub", async (HttpContext context) =>
        {
            var reader = context.Request.BodyReader;
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                if (result.IsCompleted)
                {
                    _ = result.Buffer.ToArray();
                    reader.AdvanceTo(result.Buffer.End);
                    return Results.NoContent();
                }

                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        });
        app.MapGet("/healthz", () => Results.Ok());

        await app.RunAsync();
    }
}
