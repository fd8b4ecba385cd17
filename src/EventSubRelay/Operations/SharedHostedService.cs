namespace EventSubRelay.Operations;

internal static class SharedHostedService
{
    /// <summary>A hosted service that other services (endpoints, tests) also resolve: one instance serves both.</summary>
    public static IServiceCollection AddSharedHostedService<T>(this IServiceCollection services)
        where T : class, IHostedService =>
        services.AddSingleton<T>().AddHostedService(provider => provider.GetRequiredService<T>());
}
