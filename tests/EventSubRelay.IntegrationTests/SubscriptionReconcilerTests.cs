using System.Text.Json.Nodes;
using EventSubRelay.Accounts;
using EventSubRelay.IntegrationTests.FakeTwitch;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Twitch;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

/// <summary>The reconciler in a running relay, against the strict fake Twitch, with verification through the real /eventsub.</summary>
public sealed class SubscriptionReconcilerTests : IAsyncLifetime
{
    private FakeTwitchServer _twitch = null!;
    private RelayFactory _relay = null!;
    private string _callback = "";

    public async Task InitializeAsync()
    {
        _twitch = await FakeTwitchServer.StartAsync();
        _relay = await RelayFactory.StartAsync(_twitch.RelaySettings());
        _callback = new Uri(_relay.BaseAddress, "/eventsub").ToString();
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _twitch.DisposeAsync();
    }

    private async Task<ReconcileResult> ReconcileAsync(IReadOnlyList<CreateEventSubSubscription> desired, IReadOnlyDictionary<string, string>? blocked = null)
    {
        await using var scope = _relay.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SubscriptionReconciler>()
            .ReconcileAsync(desired, _callback, blocked ?? new Dictionary<string, string>(), CancellationToken.None);
    }

    private (FakeUser User, IReadOnlyList<CreateEventSubSubscription> Desired) LinkedAffiliate(params string[] keys)
    {
        var user = _twitch.AddUser("affiliate");
        var events = SubscriptionCatalogue.Allowed(keys.Length == 0 ? SubscriptionCatalogue.ByKey.Keys : keys, affiliateOrPartner: true);
        _twitch.IssueUserToken(user.Id, [.. SubscriptionCatalogue.Scopes(events)]);
        return (user, SubscriptionCatalogue.Desired(user.Id, events, _callback, TwitchWebhook.Secret));
    }

    [Fact]
    public async Task Every_event_of_an_affiliate_is_subscribed_and_verified_through_the_relay()
    {
        var (user, desired) = LinkedAffiliate();

        var result = await ReconcileAsync(desired);
        var statuses = await Task.WhenAll(_twitch.Subscriptions.Select(s => s.Verified.Task.WaitAsync(TimeSpan.FromSeconds(20))));

        result.Blocked.Should().BeEmpty();
        result.Created.Should().HaveCount(SubscriptionCatalogue.ByKey.Count);
        statuses.Should().OnlyContain(s => s == "enabled");
        result.TotalCost.Should().Be(0, "every subscription is authorized by the linked user");
        _twitch.Subscriptions.Should().OnlyContain(s => s.Condition.ToJsonString().Contains(user.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_run_changes_nothing()
    {
        var (_, desired) = LinkedAffiliate("follow", "raid");
        await ReconcileAsync(desired);

        var again = await ReconcileAsync(desired);

        again.Created.Should().BeEmpty();
        again.Deleted.Should().BeEmpty();
        _twitch.Subscriptions.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_subscription_deleted_behind_the_relays_back_is_recreated()
    {
        var (_, desired) = LinkedAffiliate("follow", "raid");
        await ReconcileAsync(desired);
        var follow = _twitch.Subscriptions.Single(s => s.Type == "channel.follow");
        _twitch.DeleteSubscription(follow.Id);

        var repair = await ReconcileAsync(desired);

        repair.Created.Should().ContainSingle();
        _twitch.Subscriptions.Select(s => s.Type).Should().BeEquivalentTo(["channel.follow", "channel.raid"]);
    }

    [Fact]
    public async Task Events_toggled_off_are_unsubscribed()
    {
        var (_, desired) = LinkedAffiliate("follow", "raid");
        await ReconcileAsync(desired);

        var result = await ReconcileAsync([.. desired.Where(d => d.Type == "channel.raid")]);

        result.Deleted.Should().ContainSingle();
        _twitch.Subscriptions.Select(s => s.Type).Should().Equal("channel.raid");
    }

    [Fact]
    public async Task A_failed_verification_is_retried_but_a_revoked_authorization_is_left_blocked_with_its_cause()
    {
        var (_, desired) = LinkedAffiliate("follow", "raid");
        await ReconcileAsync(desired);
        await Task.WhenAll(_twitch.Subscriptions.Select(s => s.Verified.Task));
        _twitch.Subscriptions.Single(s => s.Type == "channel.raid").Status = "webhook_callback_verification_failed";
        _twitch.Subscriptions.Single(s => s.Type == "channel.follow").Status = "authorization_revoked";

        var result = await ReconcileAsync(desired);
        var later = await ReconcileAsync(desired, result.Blocked);

        result.Deleted.Should().HaveCount(2);
        result.Created.Should().ContainSingle();
        result.Blocked.Values.Should().Equal("authorization_revoked");
        later.Created.Should().BeEmpty();
        _twitch.Subscriptions.Select(s => s.Type).Should().Equal("channel.raid");
    }

    [Fact]
    public async Task The_cost_limit_stops_the_run_instead_of_looping()
    {
        // Not authorized by any token, so each subscription costs 1.
        var strangers = Enumerable.Range(0, 4).Select(_ => _twitch.AddUser()).ToList();
        _twitch.MaxTotalCost = 2;
        var desired = strangers.SelectMany(u => SubscriptionCatalogue.Desired(u.Id, SubscriptionCatalogue.Allowed(["raid"], false), _callback, TwitchWebhook.Secret)).ToList();

        var result = await ReconcileAsync(desired);

        result.LimitReached.Should().BeTrue();
        result.Created.Should().HaveCount(2);
        result.MaxTotalCost.Should().Be(2);
        _twitch.Requests.Count(r => r == "POST /helix/eventsub/subscriptions").Should().Be(3);
    }

    [Fact]
    public async Task A_notification_from_Twitch_reaches_an_overlay_of_the_linked_channel()
    {
        var (user, desired) = LinkedAffiliate("follow");
        await ReconcileAsync(desired);
        var follow = _twitch.Subscriptions.Single();
        (await follow.Verified.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("enabled");
        await using var overlay = await _relay.SubscribedOverlayAsync(user.Id);

        using var response = await _twitch.SendNotificationAsync(follow, new JsonObject
        {
            ["user_id"] = "1337",
            ["user_login"] = "awesome_user",
            ["user_name"] = "Awesome_User",
            ["broadcaster_user_id"] = user.Id,
            ["broadcaster_user_login"] = user.Login,
            ["broadcaster_user_name"] = user.DisplayName,
            ["followed_at"] = "2026-11-24T10:00:00.123456789Z",
        });
        var envelope = await overlay.NextAsync();

        response.IsSuccessStatusCode.Should().BeTrue();
        envelope.BroadcasterUserId.Should().Be(user.Id);
        envelope.IsTest.Should().BeFalse();
    }

    [Fact]
    public async Task A_Helix_outage_fails_the_reconciliation_without_blocking_ingest()
    {
        var (user, desired) = LinkedAffiliate("follow");
        _twitch.FailNext(1000);

        var reconcile = ReconcileAsync(desired);
        var messageId = await _relay.SendNotificationAsync(user.Id);
        var outage = () => reconcile;

        messageId.Should().NotBeEmpty();
        (await outage.Should().ThrowAsync<TwitchApiException>()).Which.Status.Should().Be(System.Net.HttpStatusCode.ServiceUnavailable);
        _twitch.Requests.Count.Should().BeGreaterThan(1, "the resilience handler retried");
        _twitch.FailNext(0);
        (await ReconcileAsync(desired)).Created.Should().ContainSingle();
    }

    [Fact]
    public async Task The_authorization_revoke_subscription_uses_the_apps_client_id_and_costs_nothing()
    {
        var result = await ReconcileAsync([SubscriptionCatalogue.AuthorizationRevoke(FakeTwitchServer.ClientId, _callback, TwitchWebhook.Secret)]);

        result.Created.Should().ContainSingle();
        result.TotalCost.Should().Be(0);
        (await _twitch.Subscriptions.Single().Verified.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("enabled");
    }
}
