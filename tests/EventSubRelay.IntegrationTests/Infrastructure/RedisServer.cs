using System.Diagnostics;
using System.Net.Sockets;
using EventSubRelay.Data;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>A throw-away redis-server on loopback, for the SignalR backplane.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var executable = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server).");
        var port = LocalPostgres.FreePort();
        var server = new RedisServer(Start(executable, port), port);
        await server.WaitUntilListeningAsync();
        return server;
    }

    /// <summary>Stops the server, as an outage would; its connections drop.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Starts a stopped server again on the same port (empty: Redis keeps nothing here).</summary>
    public async Task StartAgainAsync()
    {
        var executable = _process.StartInfo.FileName;
        _process.Dispose();
        _process = Start(executable, Port);
        await WaitUntilListeningAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private static Process Start(string executable, int port)
    {
        var startInfo = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        return Process.Start(startInfo)!;
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                // A separate process can only be polled until it listens.
                await Task.Delay(50);
            }
        }

        throw new TimeoutException("redis-server did not start listening.");
    }
}
