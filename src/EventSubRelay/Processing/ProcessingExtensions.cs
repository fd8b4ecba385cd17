using EventSubRelay.Events;
using EventSubRelay.Operations;
using EventSubRelay.Overlay;

namespace EventSubRelay.Processing;

internal static class ProcessingExtensions
{
    public static void AddProcessing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<NotificationQueue>();
        builder.Services.AddSingleton<RelayMetrics>();
        builder.Services.AddHealthChecks().AddCheck<QueueHealthCheck>("queue", tags: [OperationsExtensions.ReadyTag]);
        builder.Services.AddSingleton<Data.InstanceLease>();
        builder.Services.AddSingleton<NotificationStore>();
        builder.Services.AddSingleton<DeliveryQueue>();
        builder.Services.AddSingleton<BroadcasterLanes>();
        builder.Services.AddSingleton<DeliveryWatermarks>();
        builder.Services.AddSingleton<OrphanSweeper>();
        builder.Services.AddSingleton<DerivationState>();
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<OverlayEventStore>();
        builder.Services.AddSingleton<StoredEventEnricher>();
        builder.Services.AddSingleton<CatalogueMapper>();
        builder.Services.AddSingleton<IOverlayEventMapper>(services => services.GetRequiredService<CatalogueMapper>());

        // Hosted services stop in reverse order: ingest drains and completes the delivery queue, then delivery drains it.
        builder.Services.AddHostedService<DeliveryWorker>();
        builder.Services.AddHostedService<IngestWorker>();
        builder.Services.AddSharedHostedService<RetentionService>();
    }
}
