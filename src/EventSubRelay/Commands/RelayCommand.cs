using EventSubRelay.Data;
using EventSubRelay.Operations;
using EventSubRelay.Overlay;
using EventSubRelay.Twitch;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Commands;

/// <summary>
/// Commands the relay executable runs instead of serving:
/// <c>migrate</c>, <c>overlay-token create|list|revoke|rotate</c>, and for developers <c>add-migration</c>
/// (<c>healthcheck</c>, which needs no database, runs before the host is built: <see cref="HealthProbe"/>).
/// </summary>
internal sealed record RelayCommand(string Name, IReadOnlyList<string> Arguments)
{
    private const string Usage = """
        Usage:
          EventSubRelay                                   serve
          EventSubRelay migrate                           apply database migrations and exit
          EventSubRelay overlay-token create (--login <twitch login> | --broadcaster <user id>) [--name <label>] [--relay-url <url>]
                                                          --login looks the channel up on Twitch (needs Twitch:ClientId/ClientSecret);
                                                          prints the token and the overlay URL (on --relay-url, else the relay's public
                                                          address from Twitch:PublicCallbackUrl, else this machine's)
          EventSubRelay overlay-token list [--broadcaster <user id>]
          EventSubRelay overlay-token revoke <token id>
          EventSubRelay overlay-token rotate <token id>       replace a token by a new one with the same name
          EventSubRelay healthcheck                       exit 0 when the relay on this machine answers /healthz, where the
                                                          configuration says it listens (Kestrel:Endpoints, ASPNETCORE_URLS or
                                                          --urls, ASPNETCORE_HTTP_PORTS; else port 5000); the container health check
          EventSubRelay add-migration <Name>              (developers) write a new EF Core migration to src/EventSubRelay/Data/Migrations
        """;

    private static readonly string[] Names = ["migrate", "overlay-token", "add-migration", "help", "--help"];

    /// <summary>The command in the arguments, or null when the relay should serve.</summary>
    public static RelayCommand? Parse(string[] args) =>
        args.Length > 0 && Names.Contains(args[0]) ? new RelayCommand(args[0], args[1..]) : null;

    public async Task<int> RunAsync(IServiceProvider services, TextWriter output, TextWriter error)
    {
        var cancellationToken = CancellationToken.None;
        try
        {
            switch (Name)
            {
                case "migrate":
                    await DatabaseExtensions.MigrateAsync(services, cancellationToken);
                    await output.WriteLineAsync("Database is up to date.");
                    return 0;
                case "overlay-token":
                    await services.MigrateIfConfiguredAsync();
                    return await RunOverlayTokenAsync(services, output, error, cancellationToken);
                case "add-migration" when Arguments.Count == 1:
                    return MigrationScaffolding.Write(services, Arguments[0], output);
                default:
                    await error.WriteLineAsync(Usage);
                    return Name is "help" or "--help" ? 0 : 2;
            }
        }
        finally
        {
            if (services.GetRequiredService<DatabaseConnection>().Local is { StartedHere: true } local)
            {
                await local.StopAsync(cancellationToken);
            }
        }
    }

    private async Task<int> RunOverlayTokenAsync(IServiceProvider services, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<OverlayTokens>();
        var verb = Arguments.Count > 0 ? Arguments[0] : "";
        var options = Options(Arguments.Skip(1).ToList());

        switch (verb)
        {
            case "create" when options.ContainsKey("--login") != options.ContainsKey("--broadcaster")
                && (!options.TryGetValue("--broadcaster", out var id) || IsUserId(id))
                && (!options.TryGetValue("--relay-url", out var url) || IsRelayUrl(url)):
            {
                var broadcaster = options.TryGetValue("--login", out var login)
                    ? await FindBroadcasterAsync(scope.ServiceProvider, login, error, cancellationToken)
                    : options["--broadcaster"];
                if (broadcaster is null)
                {
                    return 1;
                }

                var name = options.GetValueOrDefault("--name") ?? "overlay";
                var (token, secret) = await tokens.CreateAsync(broadcaster, name, cancellationToken);
                await output.WriteLineAsync($"Created overlay token {token.Id} ({token.Name}) for broadcaster {token.BroadcasterUserId}.");
                await output.WriteLineAsync("The token is shown only this once:");
                await output.WriteLineAsync(secret);
                await output.WriteLineAsync("Add this URL as an OBS browser source:");
                await output.WriteLineAsync($"{OverlayBase(scope.ServiceProvider, options.GetValueOrDefault("--relay-url"))}/overlay#token={Uri.EscapeDataString(secret)}");
                return 0;
            }

            case "list":
            {
                var broadcaster = options.GetValueOrDefault("--broadcaster");
                var list = await tokens.ListAsync(broadcaster, cancellationToken);
                await output.WriteLineAsync($"{"id",-36}  {"broadcaster",-12}  {"name",-20}  {"created (UTC)",-19}  status");
                foreach (var token in list)
                {
                    var status = token.RevokedAt is { } revoked ? $"revoked {revoked.UtcDateTime:yyyy-MM-dd HH:mm}" : "active";
                    await output.WriteLineAsync($"{token.Id,-36}  {token.BroadcasterUserId,-12}  {token.Name,-20}  {token.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {status}");
                }

                return 0;
            }

            case "revoke" when Arguments.Count == 2 && Guid.TryParse(Arguments[1], out var id):
                if (await tokens.RevokeAsync(id, cancellationToken))
                {
                    await output.WriteLineAsync($"Revoked overlay token {id}.");
                    return 0;
                }

                await error.WriteLineAsync($"No active overlay token {id}.");
                return 1;

            case "rotate" when Arguments.Count == 2 && Guid.TryParse(Arguments[1], out var id):
                if (await tokens.RotateAsync(id, cancellationToken) is { } rotated)
                {
                    await output.WriteLineAsync($"Revoked overlay token {id} and created {rotated.Token.Id} ({rotated.Token.Name}) for broadcaster {rotated.Token.BroadcasterUserId}.");
                    await output.WriteLineAsync("The new token is shown only this once:");
                    await output.WriteLineAsync(rotated.Secret);
                    return 0;
                }

                await error.WriteLineAsync($"No active overlay token {id}.");
                return 1;

            default:
                await error.WriteLineAsync(Usage);
                return 2;
        }
    }

    private static bool IsUserId(string value) => value.Length is > 0 and <= 32 && value.All(char.IsAsciiDigit);

    private static bool IsRelayUrl(string value) => Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https";

    /// <summary>The user id of a Twitch login, through Helix with the app's token; null (and a message saying why) when there is none.</summary>
    private static async Task<string?> FindBroadcasterAsync(IServiceProvider services, string login, TextWriter error, CancellationToken cancellationToken)
    {
        login = login.TrimStart('@');
        if (login.Length is 0 or > 25 || !login.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            await error.WriteLineAsync($"'{login}' is not a Twitch login (1 to 25 letters, digits or underscores, as in twitch.tv/<login>).");
            return null;
        }

        if (!services.GetRequiredService<IOptions<TwitchOptions>>().Value.IsConfigured)
        {
            await error.WriteLineAsync(
                "--login needs a Twitch application to look the login up: set Twitch:ClientId and Twitch:ClientSecret " +
                "(environment: Twitch__ClientId and Twitch__ClientSecret; compose: TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET in .env). " +
                "Without one, pass the channel's numeric user id with --broadcaster <user id>.");
            return null;
        }

        try
        {
            if (await services.GetRequiredService<HelixClient>().GetUserByLoginAsync(login, cancellationToken) is { } user)
            {
                return user.Id;
            }

            await error.WriteLineAsync($"Twitch has no user with the login '{login}'.");
            return null;
        }
        catch (Exception exception) when (exception is TwitchApiException or HttpRequestException or TimeoutException
            or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException)
        {
            await error.WriteLineAsync($"Could not look up the login '{login}' on Twitch: {exception.Message}");
            return null;
        }
    }

    /// <summary>
    /// Where overlays reach the relay: <c>--relay-url</c>, else the public address Twitch is given
    /// (<c>Twitch:PublicCallbackUrl</c>), else the first address this machine's relay listens on.
    /// </summary>
    private static string OverlayBase(IServiceProvider services, string? relayUrl)
    {
        if (relayUrl is not null)
        {
            return relayUrl.TrimEnd('/');
        }

        if (Uri.TryCreate(services.GetRequiredService<IOptions<TwitchOptions>>().Value.PublicCallbackUrl, UriKind.Absolute, out var callback))
        {
            return callback.GetLeftPart(UriPartial.Authority);
        }

        return ListenAddresses.Local(services.GetRequiredService<IConfiguration>())[0].GetLeftPart(UriPartial.Authority);
    }

    private static Dictionary<string, string> Options(IReadOnlyList<string> arguments)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < arguments.Count; i += 2)
        {
            options[arguments[i]] = arguments[i + 1];
        }

        return options;
    }
}
