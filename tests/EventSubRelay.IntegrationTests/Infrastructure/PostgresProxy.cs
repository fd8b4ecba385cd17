using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a PostgreSQL server that can cut one connection at the worst moment for a commit:
/// after the server has run and committed a statement, before its answer reaches the client. The client then cannot
/// know whether the statement was committed.
/// </summary>
public sealed class PostgresProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly DnsEndPoint _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _cut = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _accepting;
    private string? _armed;
    private bool _beforeSending;

    private PostgresProxy(string serverHost, int serverPort)
    {
        _server = new DnsEndPoint(serverHost, serverPort);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Completes once a connection was cut (see <see cref="CutAfterAnswerTo"/>).</summary>
    public Task Cut => _cut.Task;

    /// <summary>Starts a proxy for the server of <paramref name="connectionString"/>; connect through <see cref="ConnectionString"/>.</summary>
    public static PostgresProxy Start(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return new PostgresProxy(builder.Host!, builder.Port);
    }

    /// <summary><paramref name="connectionString"/>, through this proxy.</summary>
    public string ConnectionString(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString)
    {
        Host = "127.0.0.1",
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
    }.ConnectionString;

    /// <summary>
    /// The next connection to send a statement containing <paramref name="statementText"/> is closed, on both sides, as
    /// soon as the server answers it (PostgreSQL answers an implicit transaction once it is committed), without the
    /// answer being passed on. Only one connection is cut.
    /// </summary>
    public void CutAfterAnswerTo(string statementText)
    {
        _beforeSending = false;
        Volatile.Write(ref _armed, statementText);
    }

    /// <summary>The next connection to send a statement containing <paramref name="statementText"/> is closed instead, before the server gets it.</summary>
    public void CutBeforeSending(string statementText)
    {
        _beforeSending = true;
        Volatile.Write(ref _armed, statementText);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = RelayAsync(client);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_server.Host, _server.Port, _stop.Token);
                var marked = false;
                var fromClient = PumpAsync(client.GetStream(), server.GetStream(), chunk =>
                {
                    if (Volatile.Read(ref _armed) is { } text && Encoding.UTF8.GetString(chunk).Contains(text, StringComparison.Ordinal)
                        && Interlocked.CompareExchange(ref _armed, null, text) == text)
                    {
                        if (_beforeSending)
                        {
                            _cut.TrySetResult();
                            return false;
                        }

                        marked = true;
                    }

                    return true;
                });
                var fromServer = PumpAsync(server.GetStream(), client.GetStream(), _ =>
                {
                    if (!marked)
                    {
                        return true;
                    }

                    _cut.TrySetResult();
                    return false;
                });
                await Task.WhenAny(fromClient, fromServer);
            }
            catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
            {
                // Either side went away: so does the other (the usings close both).
            }
        }
    }

    /// <summary>Copies chunks until the source ends or <paramref name="pass"/> refuses one (which is then dropped).</summary>
    private async Task PumpAsync(NetworkStream source, NetworkStream destination, Func<byte[], bool> pass)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await source.ReadAsync(buffer, _stop.Token);
                if (read == 0 || !pass(buffer[..read]))
                {
                    return;
                }

                await destination.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
