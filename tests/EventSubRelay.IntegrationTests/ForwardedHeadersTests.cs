using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using EventSubRelay.Data;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// Which peers' <c>X-Forwarded-For</c> the relay believes, seen through the invalid-token limiter (which counts the client
/// address the forwarded-headers middleware leaves): a client that can choose that address escapes the limit, or locks
/// out an address of its choice.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private const int Attempts = 3;

    [Fact]
    public async Task With_forwarded_headers_enabled_a_spoofed_address_from_a_peer_that_is_not_a_listed_proxy_is_ignored()
    {
        await using var relay = await RelayFactory.StartAsync(new Dictionary<string, string?>
        {
            ["FORWARDEDHEADERS_ENABLED"] = "true",
            ["ForwardedHeaders:KnownProxies:0"] = "198.51.100.10",
            ["Overlay:InvalidTokenAttemptsPerMinute"] = Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var client = From(IPAddress.Loopback, relay.BaseAddress);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= Attempts; i++)
        {
            statuses.Add(await NegotiateWithInvalidTokenAsync(client, forwardedFor: $"203.0.113.{i + 1}"));
        }

        statuses.Should().Equal(HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task With_forwarded_headers_enabled_and_no_proxy_listed_only_loopback_is_believed()
    {
        await using var relay = await RelayFactory.StartAsync(new Dictionary<string, string?>
        {
            ["FORWARDEDHEADERS_ENABLED"] = "true",
            ["Overlay:InvalidTokenAttemptsPerMinute"] = Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var offLoopback = From(NonLoopbackAddress(), relay.BaseAddress);
        using var loopback = From(IPAddress.Loopback, relay.BaseAddress);

        var spoofed = new List<HttpStatusCode>();
        for (var i = 0; i <= Attempts; i++)
        {
            spoofed.Add(await NegotiateWithInvalidTokenAsync(offLoopback, forwardedFor: $"203.0.113.{i + 1}"));
        }

        var forwardedByLoopback = await NegotiateWithInvalidTokenAsync(loopback, forwardedFor: "203.0.113.100");

        spoofed.Should().Equal(HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests);
        forwardedByLoopback.Should().Be(HttpStatusCode.Unauthorized, "a proxy on this host forwards for a client the limit has not seen");
    }

    [Fact]
    public async Task A_listed_network_is_believed_without_the_host_switch_and_loopback_then_is_not()
    {
        var proxy = NonLoopbackAddress();
        await using var relay = await RelayFactory.StartAsync(new Dictionary<string, string?>
        {
            ["ForwardedHeaders:KnownNetworks"] = $"198.51.100.0/24, {proxy}/32",
            ["Overlay:InvalidTokenAttemptsPerMinute"] = Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var fromProxy = From(proxy, relay.BaseAddress);
        using var loopback = From(IPAddress.Loopback, relay.BaseAddress);

        var forClient = new List<HttpStatusCode>();
        for (var i = 0; i <= Attempts; i++)
        {
            forClient.Add(await NegotiateWithInvalidTokenAsync(fromProxy, forwardedFor: "203.0.113.1"));
        }

        var forAnotherClient = await NegotiateWithInvalidTokenAsync(fromProxy, forwardedFor: "203.0.113.2");
        var fromLoopback = new List<HttpStatusCode>();
        for (var i = 0; i <= Attempts; i++)
        {
            fromLoopback.Add(await NegotiateWithInvalidTokenAsync(loopback, forwardedFor: $"203.0.113.{i + 10}"));
        }

        forClient.Should().Equal(HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests);
        forAnotherClient.Should().Be(HttpStatusCode.Unauthorized, "the proxy forwards for another client, whom the limit counts apart");
        fromLoopback.Should().Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests],
            "once proxies are listed, loopback is not one unless listed");
    }

    [Theory]
    [InlineData("ForwardedHeaders__KnownProxies__0", "10.0.0.0/8", "ForwardedHeaders:KnownProxies:0")]
    [InlineData("ForwardedHeaders__KnownNetworks", "172.31.240.0/24,172.31.240.2", "ForwardedHeaders:KnownNetworks")]
    [InlineData("ForwardedHeaders__KnownNetworks__1", "proxy", "ForwardedHeaders:KnownNetworks:1")]
    public async Task A_value_that_is_not_an_address_or_network_stops_the_relay_naming_the_setting(string variable, string value, string setting)
    {
        var environment = RelayProcess.Environment(await (await PostgresServer.Shared).CreateDatabaseAsync());
        environment[variable] = value;
        environment["ForwardedHeaders__KnownNetworks__0"] = "172.31.240.0/24";

        string refusal;
        try
        {
            await using var started = await RelayProcess.StartAsync(environment, LocalPostgres.FreePort());
            refusal = "the relay started";
        }
        catch (InvalidOperationException exception)
        {
            refusal = exception.Message;
        }

        refusal.Should().Contain("exited with code 1").And.Contain("cannot start").And.Contain($"{setting} is '");
    }

    private static async Task<HttpStatusCode> NegotiateWithInvalidTokenAsync(HttpClient client, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/hubs/overlay/negotiate?negotiateVersion=1&access_token=esr_guess{Guid.NewGuid():N}");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>A client whose connections to the relay (on loopback) come from <paramref name="local"/>.</summary>
    private static HttpClient From(IPAddress local, Uri relay) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = relay };

    /// <summary>An IPv4 address of this machine off loopback: a peer the relay does not trust by default.</summary>
    private static IPAddress NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("These tests need an IPv4 address of this machine that is not on loopback.");
}
