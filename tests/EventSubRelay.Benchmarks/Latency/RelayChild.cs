using System.Diagnostics;
using EventSubRelay.Data;

namespace EventSubRelay.Benchmarks.Latency;

/// <summary>The relay's own build (same configuration as this benchmark) running as a separate process.</summary>
internal sealed class RelayChild : IAsyncDisposable
{
    private readonly Process _process;

    private RelayChild(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<RelayChild> StartAsync(string connectionString, string secret)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{LocalPostgres.FreePort()}");
        var relayDll = Path.Combine(AppContext.BaseDirectory, "EventSubRelay.dll");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { relayDll, "--urls", baseAddress.ToString() },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ConnectionStrings__Postgres"] = connectionString,
                ["EventSub__Secret"] = secret,
                ["Database__MigrateOnStartup"] = "true",
            },
        };
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start the relay.");
        // Production logs go to stdout as JSON; read them so the pipe never blocks the relay.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"relay: {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var child = new RelayChild(process, baseAddress);
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The relay exited with code {process.ExitCode}.");
            }

            try
            {
                using var ready = await http.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return child;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        await child.DisposeAsync();
        throw new TimeoutException("The relay did not become ready.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
