using System.Net;
using ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Operations;

/// <summary>
/// The proxies whose <c>X-Forwarded-For</c>, <c>-Proto</c> and <c>-Host</c> the relay believes: the addresses in
/// <c>ForwardedHeaders:KnownProxies</c> and the CIDR networks in <c>ForwardedHeaders:KnownNetworks</c>, or, when neither
/// lists any, loopback only (the framework's own default). A forwarded address from anyone else is ignored: it would let
/// a client pick the address the invalid-token limiter counts, and so escape it or lock out someone else.
/// </summary>
internal sealed class TrustedProxies
{
    public const string Section = "ForwardedHeaders";

    /// <summary>The host's switch for forwarded headers, <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>.</summary>
    private const string EnabledKey = "ForwardedHeaders_Enabled";

    private TrustedProxies(IReadOnlyList<IPAddress> proxies, IReadOnlyList<IPNetwork> networks)
    {
        Proxies = proxies;
        Networks = networks;
    }

    private IReadOnlyList<IPAddress> Proxies { get; }

    private IReadOnlyList<IPNetwork> Networks { get; }

    /// <summary>Whether the settings list any proxy; listing one is enough to turn forwarded headers on.</summary>
    public bool AreListed => Proxies.Count > 0 || Networks.Count > 0;

    /// <summary>
    /// Reads both lists, each as entries (<c>KnownProxies:0</c>, <c>KnownProxies:1</c>, …) or as one value separated by
    /// commas (<c>ForwardedHeaders__KnownNetworks=172.31.240.0/24,10.0.0.0/8</c>); a value that is not an address or a
    /// network stops the relay with a message naming the setting.
    /// </summary>
    public static TrustedProxies Read(IConfiguration configuration)
    {
        var failures = new List<string>();
        var proxies = new List<IPAddress>();
        var networks = new List<IPNetwork>();
        foreach (var (key, value) in Entries(configuration.GetSection($"{Section}:KnownProxies")))
        {
            if (IPAddress.TryParse(value, out var address) && !value.Contains('/', StringComparison.Ordinal))
            {
                proxies.Add(address);
            }
            else
            {
                failures.Add($"{key} is '{value}', which is not an IP address (such as 172.31.240.2 or fd00::2; networks go in {Section}:KnownNetworks).");
            }
        }

        foreach (var (key, value) in Entries(configuration.GetSection($"{Section}:KnownNetworks")))
        {
            if (IPNetwork.TryParse(value, out var network))
            {
                networks.Add(network);
            }
            else
            {
                failures.Add($"{key} is '{value}', which is not a network in CIDR form (such as 172.31.240.0/24 or fd00::/64; single addresses go in {Section}:KnownProxies).");
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Section, typeof(ForwardedHeadersOptions), failures);
        }

        return new TrustedProxies(proxies, networks);
    }

    /// <summary>Believes the forwarded client address, scheme and host from the listed proxies only.</summary>
    public void ApplyTo(ForwardedHeadersOptions options)
    {
        // The host's own switch clears both lists, trusting everyone: they are set again here, always.
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        if (!AreListed)
        {
            options.KnownIPNetworks.Add(new IPNetwork(IPAddress.Loopback, 8));
            options.KnownProxies.Add(IPAddress.IPv6Loopback);
            return;
        }

        foreach (var proxy in Proxies)
        {
            options.KnownProxies.Add(proxy);
        }

        foreach (var network in Networks)
        {
            options.KnownIPNetworks.Add(network);
        }
    }

    /// <summary>Whether the host already runs the forwarded-headers middleware (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>).</summary>
    public static bool HostRunsMiddleware(IConfiguration configuration) =>
        string.Equals(configuration[EnabledKey], "true", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<(string Key, string Value)> Entries(IConfigurationSection list)
    {
        if (!string.IsNullOrWhiteSpace(list.Value))
        {
            foreach (var value in list.Value.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return (list.Path, value);
            }
        }

        foreach (var entry in list.GetChildren())
        {
            if (!string.IsNullOrWhiteSpace(entry.Value))
            {
                yield return (entry.Path, entry.Value.Trim());
            }
        }
    }
}
