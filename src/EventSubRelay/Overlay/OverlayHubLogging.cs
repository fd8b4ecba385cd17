using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Overlay;

/// <summary>
/// Logs what hub calls throw, in place of SignalR's dispatcher (whose log is switched off, see
/// <c>Operations/OperationsExtensions.cs</c>): a refused argument (<see cref="HubException"/>, which the client
/// sees) is a warning without a stack trace and with the client's text cut short; anything else is a bug and
/// an error with its stack trace.
/// </summary>
internal sealed class OverlayHubLogging(ILogger<OverlayHubLogging> logger) : IHubFilter
{
    private const int MaxLoggedLength = 200;

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (HubException exception)
        {
            logger.LogWarning("Refused {HubMethod} from overlay connection {ConnectionId}: {Reason}",
                invocationContext.HubMethodName, invocationContext.Context.ConnectionId, Cut(exception.Message));
            throw;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogError(exception, "{HubMethod} failed for overlay connection {ConnectionId}", invocationContext.HubMethodName, invocationContext.Context.ConnectionId);
            throw;
        }
    }

    private static string Cut(string value) => value.Length <= MaxLoggedLength ? value : string.Concat(value.AsSpan(0, MaxLoggedLength), "…");
}
