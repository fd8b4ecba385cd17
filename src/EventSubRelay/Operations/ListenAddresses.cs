namespace EventSubRelay.Operations;

/// <summary>
/// Where the relay on this machine listens, read from the configuration as Kestrel reads it: the endpoints in
/// <c>Kestrel:Endpoints</c>, else <c>urls</c> (<c>ASPNETCORE_URLS</c>, <c>--urls</c>, launchSettings' applicationUrl),
/// else <c>http_ports</c>/<c>https_ports</c> (<c>ASPNETCORE_HTTP_PORTS</c>, set to 8080 in the image), else Kestrel's
/// default <c>http://localhost:5000</c>. Each address is given as a client on this machine reaches it: a wildcard host
/// (<c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>) becomes <c>localhost</c>.
/// </summary>
internal static class ListenAddresses
{
    public static IReadOnlyList<Uri> Local(IConfiguration configuration)
    {
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(endpoint => endpoint["Url"]);
        var addresses = Parse(endpoints);
        if (addresses.Count == 0)
        {
            addresses = Parse(Split(configuration["urls"]));
        }

        if (addresses.Count == 0)
        {
            addresses = Parse(Split(configuration["http_ports"]).Select(port => $"http://localhost:{port}")
                .Concat(Split(configuration["https_ports"]).Select(port => $"https://localhost:{port}")));
        }

        return addresses.Count > 0 ? addresses : [new Uri("http://localhost:5000")];
    }

    private static IEnumerable<string> Split(string? list) =>
        list?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    private static List<Uri> Parse(IEnumerable<string?> urls)
    {
        var addresses = new List<Uri>();
        foreach (var url in urls)
        {
            // Kestrel accepts hosts that are not URI hosts (+, *): they mean every interface.
            var local = url is null ? null : System.Text.RegularExpressions.Regex.Replace(url, @"^(\w+)://(\+|\*|0\.0\.0\.0|\[::\])(?=[:/]|$)", "$1://localhost");
            if (Uri.TryCreate(local, UriKind.Absolute, out var address) && address.Scheme is "http" or "https" && address.Port > 0 && address.Host != "unix")
            {
                addresses.Add(new Uri(address.GetLeftPart(UriPartial.Authority)));
            }
        }

        // A local client prefers plain http: it needs no certificate for the name it dials.
        return [.. addresses.OrderBy(address => address.Scheme == "https")];
    }
}
