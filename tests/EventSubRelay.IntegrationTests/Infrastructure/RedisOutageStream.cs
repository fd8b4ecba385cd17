using System.Net;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>
/// One webhook after the other to one instance, as Twitch sends a busy channel's, while Redis stops once the stream is
/// under way and comes back after a fixed while, whatever the stream does meanwhile. A <c>503</c> (delivery held up,
/// its queue full) is retried with the same id, as Twitch does, until it is acknowledged.
/// </summary>
public static class RedisOutageStream
{
    /// <summary>Sends <paramref name="total"/> notifications, stopping Redis at the <paramref name="stopAt"/>th; returns the acknowledged ids in order and how many 503s came.</summary>
    public static async Task<(List<string> Acknowledged, int Refused)> SendAsync(
        HttpClient client, string broadcaster, int total, int stopAt, RedisServer redis, TimeSpan outageLength, CancellationToken cancellationToken)
    {
        var underWay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outage = Task.Run(async () =>
        {
            await underWay.Task;
            await redis.StopAsync();
            await Task.Delay(outageLength, CancellationToken.None);
            await redis.StartAgainAsync();
        }, CancellationToken.None);

        var acknowledged = new List<string>();
        var refused = 0;
        for (var i = 0; i < total; i++)
        {
            if (i == stopAt)
            {
                underWay.SetResult();
            }

            var id = TwitchWebhook.NewMessageId();
            var body = TwitchWebhook.NotificationBody(broadcaster);
            HttpStatusCode status;
            while ((status = await PostAsync(client, body, id, cancellationToken)) == HttpStatusCode.ServiceUnavailable)
            {
                refused++;
                await Task.Delay(50, cancellationToken);
            }

            status.Should().Be(HttpStatusCode.NoContent);
            acknowledged.Add(id);
        }

        await outage.WaitAsync(cancellationToken);
        return (acknowledged, refused);
    }

    public static async Task<HttpStatusCode> PostAsync(HttpClient client, string body, string messageId, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(TwitchWebhook.Request(body, messageId: messageId), cancellationToken);
        return response.StatusCode;
    }
}
