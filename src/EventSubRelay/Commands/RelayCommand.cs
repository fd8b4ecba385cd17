using EventSubRelay.Data;
using EventSubRelay.Overlay;

namespace EventSubRelay.Commands;

/// <summary>
/// Commands the relay executable runs instead of serving:
/// <c>migrate</c>, <c>overlay-token create|list|revoke</c>, and for developers <c>add-migration</c>.
/// </summary>
internal sealed record RelayCommand(string Name, IReadOnlyList<string> Arguments)
{
    private const string Usage = """
        Usage:
          EventSubRelay                                   serve
          EventSubRelay migrate                           apply database migrations and exit
          EventSubRelay overlay-token create --broadcaster <user id> [--name <label>]
          EventSubRelay overlay-token list [--broadcaster <user id>]
          EventSubRelay overlay-token revoke <token id>
          EventSubRelay overlay-token rotate <token id>       replace a token by a new one with the same name
          EventSubRelay add-migration <Name>              (developers) write a new EF Core migration to src/EventSubRelay/Data/Migrations
        """;

    private static readonly string[] Names = ["migrate", "overlay-token", "add-migration", "help", "--help"];

    /// <summary>The command in the arguments, or null when the relay should serve.</summary>
    public static RelayCommand? Parse(string[] args) =>
        args.Length > 0 && Names.Contains(args[0]) ? new RelayCommand(args[0], args[1..]) : null;

    public async Task<int> RunAsync(IHost app, TextWriter output, TextWriter error)
    {
        var cancellationToken = CancellationToken.None;
        try
        {
            switch (Name)
            {
                case "migrate":
                    await DatabaseExtensions.MigrateAsync(app.Services, cancellationToken);
                    await output.WriteLineAsync("Database is up to date.");
                    return 0;
                case "overlay-token":
                    await app.MigrateIfConfiguredAsync();
                    return await RunOverlayTokenAsync(app.Services, output, error, cancellationToken);
                case "add-migration" when Arguments.Count == 1:
                    return MigrationScaffolding.Write(app.Services, Arguments[0], output);
                default:
                    await error.WriteLineAsync(Usage);
                    return Name is "help" or "--help" ? 0 : 2;
            }
        }
        finally
        {
            if (app.Services.GetRequiredService<DatabaseConnection>().Local is { StartedHere: true } local)
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
            case "create" when options.TryGetValue("--broadcaster", out var broadcaster) && IsUserId(broadcaster):
            {
                var name = options.GetValueOrDefault("--name") ?? "overlay";
                var (token, secret) = await tokens.CreateAsync(broadcaster, name, cancellationToken);
                await output.WriteLineAsync($"Created overlay token {token.Id} ({token.Name}) for broadcaster {token.BroadcasterUserId}.");
                await output.WriteLineAsync("The token is shown only this once:");
                await output.WriteLineAsync(secret);
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
