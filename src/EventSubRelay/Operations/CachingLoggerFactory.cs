using System.Collections.Concurrent;

namespace EventSubRelay.Operations;

/// <summary>
/// One logger per category, made once. Serilog's logger factory makes a new logger (with its own caches) on every
/// <see cref="CreateLogger"/>, and ASP.NET Core asks for one each time it runs a result (every <c>204</c> a webhook
/// gets), expecting the factory to keep it, as the framework's own does.
/// </summary>
internal sealed class CachingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, inner.CreateLogger);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    /// <summary>Wraps the last registered logger factory (Serilog's) in one that keeps its loggers.</summary>
    public static void Wrap(IServiceCollection services)
    {
        var registered = services.Last(descriptor => descriptor.ServiceType == typeof(ILoggerFactory));
        services.Remove(registered);
        var create = registered.ImplementationFactory ?? throw new InvalidOperationException("Serilog registers its logger factory with a factory method.");
        services.AddSingleton<ILoggerFactory>(provider => new CachingLoggerFactory((ILoggerFactory)create(provider)));
    }
}
