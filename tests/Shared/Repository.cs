namespace EventSubRelay.Testing;

/// <summary>The checkout the tests and benchmarks run from: its files (README, docs, deployment files) and its build outputs.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string ReadFile(params string[] path) => File.ReadAllText(Path.Combine([Root, .. path]));

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EventSubRelay.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException($"No EventSubRelay.sln above {AppContext.BaseDirectory}.");
    }
}
