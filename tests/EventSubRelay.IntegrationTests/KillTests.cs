using System.Collections.Concurrent;
using System.Net;
using EventSubRelay.Data;
using EventSubRelay.IntegrationTests.Infrastructure;

namespace EventSubRelay.IntegrationTests;

/// <summary>The relay killed with SIGKILL while notifications pour in, then started again.</summary>
public sealed class KillTests
{
    private const int Notifications = 400;
    private const int Senders = 8;

    [Fact]
    public async Task Every_acknowledged_notification_survives_a_kill_and_reaches_the_overlay_exactly_once()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var environment = RelayProcess.Environment(connectionString);
        var port = LocalPostgres.FreePort();
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var ids = Enumerable.Range(0, Notifications).Select(_ => TwitchWebhook.NewMessageId()).ToList();
        var acknowledged = new ConcurrentDictionary<string, bool>();
        string token;
        long lastSeq;
        IReadOnlyList<string> beforeKill;

        await using (var relay = await RelayProcess.StartAsync(environment, port))
        {
            token = await RelayProcess.CreateOverlayTokenAsync(environment, broadcaster);
            await using var overlay = await SubscribedOverlay.ConnectAsync(relay.BaseAddress, token);

            // Senders work through the list until the relay dies under them.
            using var client = new HttpClient { BaseAddress = relay.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            var next = -1;
            var killAt = Notifications / 4;
            var killed = new TaskCompletionSource();
            var senders = Enumerable.Range(0, Senders).Select(async _ =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < Notifications)
                {
                    try
                    {
                        using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: ids[index]));
                        if (response.StatusCode == HttpStatusCode.NoContent)
                        {
                            acknowledged[ids[index]] = true;
                        }

                        if (acknowledged.Count >= killAt)
                        {
                            killed.TrySetResult();
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return;
                    }
                    catch (TaskCanceledException)
                    {
                        return;
                    }
                }
            }).ToList();

            await killed.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await relay.KillAsync();
            await Task.WhenAll(senders);
            beforeKill = [.. overlay.All.Select(e => e.Id)];
            lastSeq = overlay.All.Select(e => e.Seq).DefaultIfEmpty(0).Max();
        }

        acknowledged.Should().NotBeEmpty();
        await using (var restarted = await RelayProcess.StartAsync(environment, port))
        {
            await using var overlay = await OverlayClient.ConnectAsync(restarted.BaseAddress, token, afterSeq: lastSeq);
            await overlay.SubscribeAsync("*");

            // Twitch sends again whatever was not acknowledged, including what was cut off by the kill.
            using var client = new HttpClient { BaseAddress = restarted.BaseAddress };
            foreach (var id in ids.Where(id => !acknowledged.ContainsKey(id)))
            {
                using var response = await client.SendAsync(TwitchWebhook.Request(TwitchWebhook.NotificationBody(broadcaster), messageId: id));
                response.StatusCode.Should().Be(HttpStatusCode.NoContent);
                acknowledged[id] = true;
            }

            var afterRestart = await overlay.WaitForAsync(Notifications - beforeKill.Count, TimeSpan.FromSeconds(60));
            var received = beforeKill.Concat(afterRestart.Select(e => e.Id)).ToList();

            received.Should().OnlyHaveUniqueItems("no notification reaches the overlay twice");
            received.Should().BeEquivalentTo(ids, "every acknowledged notification reaches the overlay");
        }

        (await Database.CountAsync(connectionString, "SELECT count(*) FROM notifications WHERE message_id = ANY(@ids)", ("ids", ids.ToArray())))
            .Should().Be(Notifications);
    }
}
