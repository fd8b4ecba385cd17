using System.Diagnostics;
using System.Text;
using EventSubRelay.Data;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>The relay executable running as a process of its own, as it runs in production.</summary>
public sealed class RelayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RelayProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The relay's build output, next to this test assembly's (same configuration).</summary>
    public static string RelayDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            var dll = Path.Combine(Repository.Root, "src", "EventSubRelay", "bin", configuration, "net10.0", "EventSubRelay.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the relay first.", dll);
        }
    }

    /// <summary>The environment a production relay needs, pointing at this database.</summary>
    public static Dictionary<string, string> Environment(string connectionString, IDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Postgres"] = connectionString,
            ["EventSub__Secret"] = TwitchWebhook.Secret,
            ["Database__MigrateOnStartup"] = "true",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>
    /// Starts the relay on a loopback port (or on <paramref name="urls"/>, which must include that port on loopback) and
    /// waits until it is ready.
    /// </summary>
    public static async Task<RelayProcess> StartAsync(IDictionary<string, string> environment, int? port = null, string? urls = null)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{port ?? LocalPostgres.FreePort()}");
        var startInfo = Start(["--urls", urls ?? baseAddress.ToString()], environment);
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start the relay.");
        var relay = new RelayProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => relay.Append(e.Data);
        process.ErrorDataReceived += (_, e) => relay.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await relay.WaitUntilReadyAsync();
        return relay;
    }

    /// <summary>Runs a command of the relay executable to completion.</summary>
    public static async Task<(int ExitCode, string Output)> RunCommandAsync(IDictionary<string, string> environment, params string[] arguments)
    {
        using var process = Process.Start(Start(arguments, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Creates an overlay token with the relay's own command and returns the printed secret.</summary>
    public static async Task<string> CreateOverlayTokenAsync(IDictionary<string, string> environment, string broadcasterUserId)
    {
        var (exitCode, output) = await RunCommandAsync(environment, "overlay-token", "create", "--broadcaster", broadcasterUserId, "--name", "test");
        exitCode.Should().Be(0, output);
        return output.Split('\n', StringSplitOptions.TrimEntries).Single(line => line.StartsWith("esr_", StringComparison.Ordinal));
    }

    /// <summary>Ends the process at once, as a crash or SIGKILL would.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private static ProcessStartInfo Start(IEnumerable<string> arguments, IDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(RelayDll);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        return startInfo;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The relay exited with code {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Starting up slowly.
            }

            // A separate process can only be polled: it offers nothing to await.
            await Task.Delay(100);
        }

        throw new TimeoutException($"The relay did not become ready:\n{Output}");
    }
}
