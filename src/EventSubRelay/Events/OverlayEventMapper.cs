using EventSubRelay.Processing;

namespace EventSubRelay.Events;

/// <summary>Turns a committed EventSub notification into the events overlays receive.</summary>
internal interface IOverlayEventMapper
{
    ValueTask<IReadOnlyList<OverlayEvent>> MapAsync(CommittedNotification notification, CancellationToken cancellationToken);
}
