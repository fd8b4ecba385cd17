using System.Net;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Overlay;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;

namespace EventSubRelay.IntegrationTests;

public sealed class OverlayTokenCacheTests(RelayFixture relay) : IClassFixture<RelayFixture>
{
    private RelayFactory Factory => relay.Factory;

    [Fact]
    public async Task An_overlay_reconnecting_with_a_known_token_needs_no_database()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        await (await Factory.ConnectOverlayAsync(token)).DisposeAsync();

        // Nobody can read the tokens table until this transaction ends: a look-up would wait for it.
        await using var connection = new NpgsqlConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await Database.ExecuteAsync(connection, "LOCK TABLE overlay_tokens IN ACCESS EXCLUSIVE MODE");

        await using var again = await Factory.ConnectOverlayAsync(token).WaitAsync(TimeSpan.FromSeconds(5));
        again.Connection.State.Should().Be(HubConnectionState.Connected);
    }

    [Fact]
    public async Task A_token_revoked_elsewhere_closes_its_live_connections_and_is_refused_within_seconds()
    {
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        var token = await Factory.CreateOverlayTokenAsync(broadcaster);
        await using var overlay = await Factory.ConnectOverlayAsync(token);
        var closed = new TaskCompletionSource();
        overlay.Connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };

        // As another instance or the command line would: straight in the database, not through this relay.
        await Database.ExecuteAsync(Factory.ConnectionString, "UPDATE overlay_tokens SET revoked_at = now() WHERE broadcaster_user_id = @b", ("b", broadcaster));

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var client = Factory.CreateRelayClient();
        using var response = await client.PostAsync($"{OverlayExtensions.HubPath}/negotiate?negotiateVersion=1&access_token={token}", null);
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }
}
