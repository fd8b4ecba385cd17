using System.Globalization;

namespace EventSubRelay.Benchmarks;

/// <summary>Command-line settings of one benchmark run.</summary>
internal sealed record BenchmarkOptions(int Seconds, int WarmupSeconds, int Concurrency, IReadOnlyDictionary<string, string> RelaySettings, string? RelayDll, int Rounds = 1, string? CompareDll = null, bool Statements = false,
    IReadOnlyDictionary<string, string>? CompareSettings = null, string? CompareConnection = null, IReadOnlyDictionary<string, string>? ComparePostgres = null)
{
    /// <summary>Whether a second relay is measured in the same rounds: another build, other settings, or both.</summary>
    public bool Compares => CompareDll is not null || ChangesSecond;

    /// <summary>Whether the second relay has other relay, connection or server settings than the first.</summary>
    public bool ChangesSecond => CompareSettings is { Count: > 0 } || CompareConnection is not null || ComparePostgres is { Count: > 0 };

    /// <summary><c>; +label: k=v, …</c> for settings that are given, otherwise nothing: the run's header line.</summary>
    public static string Describe(string label, IReadOnlyDictionary<string, string>? settings) =>
        settings is not { Count: > 0 } ? "" : $"; {label}: {string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"))}";

    public const string Usage = """
        Usage: dotnet run -c Release --project tests/EventSubRelay.Benchmarks -- [options]
          --seconds N                 measured duration per target (default 10)
          --warmup N                  warm-up per target, not measured (default 3)
          --concurrency N             concurrent keep-alive requests (default 256)
          --relay-setting Key=Value   extra relay configuration, e.g. Queue:BatchWindowMilliseconds=1 (repeatable)
          --relay-dll PATH            another build of the relay, e.g. of an older commit, to compare with
          --rounds N                  measure bare Kestrel and the relay alternately N times each, both kept running (default 1)
          --compare-dll PATH          a second build of the relay, on a PostgreSQL of its own, measured in the same rounds
                                      (the two relays take turns going first)
          --compare-setting Key=Value configuration of the second relay only (repeatable); without --compare-dll, the
                                      second relay is the same build, so two settings are compared in the same rounds
          --compare-connection K=V    Npgsql connection string keywords added for the second relay only, e.g. "Max Auto Prepare=20"
          --compare-postgres K=V      a server setting of the second relay's PostgreSQL only (repeatable), set with ALTER SYSTEM
                                      before the relays start, e.g. wal_init_zero=off
          --statements                load pg_stat_statements into each PostgreSQL and print its statements' time and WAL
                                      per stored notification at the end (adds a little PostgreSQL CPU)
        """;

    /// <summary>Parses the arguments; null (after printing why) when they are wrong.</summary>
    public static BenchmarkOptions? Parse(IReadOnlyList<string> args, TextWriter error)
    {
        var seconds = 10;
        var warmup = 3;
        // Closed loop: at 10,000/s, a few milliseconds of durable-commit latency need a few hundred requests in flight.
        var concurrency = 256;
        var rounds = 1;
        var relaySettings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? relayDll = null;
        string? compareDll = null;
        var statements = false;
        var compareSettings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? compareConnection = null;
        var comparePostgres = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : null;
            switch (args[i])
            {
                case "--seconds" when TryPositive(value, out seconds):
                case "--warmup" when TryPositive(value, out warmup):
                case "--concurrency" when TryPositive(value, out concurrency):
                case "--rounds" when TryPositive(value, out rounds):
                    i++;
                    break;
                case "--relay-dll" when File.Exists(value):
                    relayDll = Path.GetFullPath(value);
                    i++;
                    break;
                case "--statements":
                    statements = true;
                    break;
                case "--compare-dll" when File.Exists(value):
                    compareDll = Path.GetFullPath(value);
                    i++;
                    break;
                case "--compare-connection" when value?.Contains('=', StringComparison.Ordinal) == true:
                    compareConnection = value;
                    i++;
                    break;
                case "--compare-setting" when value?.Split('=', 2) is [{ Length: > 0 } compareKey, var compareSetting]:
                    compareSettings[compareKey] = compareSetting;
                    i++;
                    break;
                case "--compare-postgres" when value?.Split('=', 2) is [{ Length: > 0 } serverKey, { Length: > 0 } serverSetting] && serverKey.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.'):
                    comparePostgres[serverKey] = serverSetting;
                    i++;
                    break;
                case "--relay-setting" when value?.Split('=', 2) is [{ Length: > 0 } key, var setting]:
                    relaySettings[key] = setting;
                    i++;
                    break;
                default:
                    error.WriteLine($"Unexpected or invalid argument '{args[i]}'.");
                    error.WriteLine(Usage);
                    return null;
            }
        }

        return new BenchmarkOptions(seconds, warmup, concurrency, relaySettings, relayDll, rounds, compareDll, statements, compareSettings, compareConnection, comparePostgres);
    }

    private static bool TryPositive(string? text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
}
