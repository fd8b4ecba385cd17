using Microsoft.AspNetCore.SignalR;

namespace EventSubRelay.Overlay;

/// <summary>
/// Logs what hub calls throw, in place of SignalR's dispatcher (whose log is switched off, see
/// <c>Operations/OperationsExtensions.cs</c>): a refused argument (<see cref="HubException"/>, which the client
/// sees) is a warning without a stack trace; anything else is a bug and an error with its stack trace. What
/// the client sent is cut short by the log's own bound on values (<see cref="Operations.BoundedLogValues"/>).
/// </summary>
internal sealed class OverlayHubLogging(ILogger<OverlayHubLogging> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (HubException exception)
        {
            logger.LogWarning("Refused {HubMethod} from overlay connection {ConnectionId}: {Reason}",
                invocationContext.HubMethodName, invocationContext.Context.ConnectionId, exception.Message);
            throw;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogError(exception, "{HubMethod} failed for overlay connection {ConnectionId}", invocationContext.HubMethodName, invocationContext.Context.ConnectionId);
            throw;
        }
    }
}
