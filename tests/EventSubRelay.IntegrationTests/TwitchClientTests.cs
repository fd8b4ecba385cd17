using System.Collections.Concurrent;
using System.Net;
using EventSubRelay.IntegrationTests.FakeTwitch;
using EventSubRelay.IntegrationTests.Infrastructure;
using EventSubRelay.Twitch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventSubRelay.IntegrationTests;

/// <summary>The Helix and OAuth clients against the strict fake Twitch.</summary>
public sealed class TwitchClientTests : IAsyncLifetime
{
    private FakeTwitchServer _twitch = null!;
    private IHost _host = null!;
    private readonly ConcurrentQueue<string> _logs = new();

    public async Task InitializeAsync()
    {
        _twitch = await FakeTwitchServer.StartAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(_twitch.RelaySettings());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Logging.ClearProviders().AddProvider(new ListLogger(_logs));
        builder.AddTwitch();
        _host = builder.Build();
    }

    public async Task DisposeAsync()
    {
        _host.Dispose();
        await _twitch.DisposeAsync();
    }

    private HelixClient Helix => _host.Services.GetRequiredService<HelixClient>();

    private TwitchAuthClient Auth => _host.Services.GetRequiredService<TwitchAuthClient>();

    [Fact]
    public async Task The_app_access_token_is_fetched_once_and_reused()
    {
        var user = _twitch.AddUser();

        await Helix.GetUsersAsync([user.Id], CancellationToken.None);
        var users = await Helix.GetUsersAsync([user.Id], CancellationToken.None);

        users.Should().ContainSingle().Which.BroadcasterType.Should().Be("affiliate");
        _twitch.Requests.Count(r => r == "POST /oauth2/token").Should().Be(1);
    }

    [Fact]
    public async Task Listing_subscriptions_follows_the_cursor_through_every_page()
    {
        await using var relay = await RelayFactory.StartAsync(_twitch.RelaySettings());
        var callback = new Uri(relay.BaseAddress, "/eventsub").ToString();
        _twitch.PageSize = 2;
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var user = _twitch.AddUser();
            var subscription = await Helix.CreateEventSubSubscriptionAsync(StreamOnline(user.Id, callback), CancellationToken.None);
            created.Add(subscription.Subscription.Id);
        }

        var list = await Helix.ListEventSubSubscriptionsAsync(CancellationToken.None);

        list.Subscriptions.Select(s => s.Id).Should().BeEquivalentTo(created);
        list.Total.Should().Be(5);
        list.MaxTotalCost.Should().Be(_twitch.MaxTotalCost);
        _twitch.Requests.Count(r => r == "GET /helix/eventsub/subscriptions").Should().Be(3);
    }

    [Fact]
    public async Task A_created_subscription_is_verified_through_the_relay_webhook_and_a_duplicate_is_a_conflict()
    {
        await using var relay = await RelayFactory.StartAsync(_twitch.RelaySettings());
        var callback = new Uri(relay.BaseAddress, "/eventsub").ToString();
        var user = _twitch.AddUser();
        _twitch.IssueUserToken(user.Id, ["moderator:read:followers"]);
        var follow = new CreateEventSubSubscription(
            "channel.follow", "2",
            new Dictionary<string, string> { ["broadcaster_user_id"] = user.Id, ["moderator_user_id"] = user.Id },
            new EventSubTransport("webhook", callback, TwitchWebhook.Secret));

        var created = await Helix.CreateEventSubSubscriptionAsync(follow, CancellationToken.None);
        var status = await _twitch.Subscriptions.Single(s => s.Id == created.Subscription.Id).Verified.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var duplicate = () => Helix.CreateEventSubSubscriptionAsync(follow, CancellationToken.None);

        created.Subscription.Status.Should().Be("webhook_callback_verification_pending");
        created.Subscription.Cost.Should().Be(0);
        status.Should().Be("enabled");
        (await duplicate.Should().ThrowAsync<TwitchApiException>()).Which.Status.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_subscription_without_the_scope_granted_is_forbidden_with_Twitchs_message()
    {
        var user = _twitch.AddUser();
        var follow = new CreateEventSubSubscription(
            "channel.follow", "2",
            new Dictionary<string, string> { ["broadcaster_user_id"] = user.Id, ["moderator_user_id"] = user.Id },
            new EventSubTransport("webhook", "http://127.0.0.1:1/eventsub", TwitchWebhook.Secret));

        var create = () => Helix.CreateEventSubSubscriptionAsync(follow, CancellationToken.None);

        var error = (await create.Should().ThrowAsync<TwitchApiException>()).Which;
        error.Status.Should().Be(HttpStatusCode.Forbidden);
        error.TwitchMessage.Should().Be("subscription missing proper authorization");
        _logs.Should().Contain(m => m.Contains("subscription missing proper authorization", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rate_limited_request_is_retried_after_Ratelimit_Reset()
    {
        await Helix.GetCheermotesAsync(null, CancellationToken.None);
        _twitch.RateLimitNext(1);

        var cheermotes = await Helix.GetCheermotesAsync(null, CancellationToken.None);

        cheermotes.Should().ContainSingle(c => c.Prefix == "Cheer");
        _twitch.Requests.Count(r => r == "GET /helix/bits/cheermotes").Should().Be(3);
    }

    [Fact]
    public async Task A_short_Helix_outage_is_ridden_out_by_retries()
    {
        var user = _twitch.AddUser("partner");
        await Helix.GetUsersAsync([user.Id], CancellationToken.None);
        _twitch.FailNext(2);

        var users = await Helix.GetUsersAsync([user.Id], CancellationToken.None);

        users.Should().ContainSingle().Which.BroadcasterType.Should().Be("partner");
    }

    [Fact]
    public async Task A_refresh_token_works_once_and_the_new_tokens_replace_the_old()
    {
        var user = _twitch.AddUser();
        var (access, refresh) = _twitch.IssueUserToken(user.Id, ["channel:read:redemptions"]);

        var renewed = await Auth.RefreshAsync(refresh, CancellationToken.None);
        var reuse = () => Auth.RefreshAsync(refresh, CancellationToken.None);

        renewed.AccessToken.Should().NotBe(access);
        renewed.Scope.Should().Equal("channel:read:redemptions");
        (await Auth.ValidateAsync(access, CancellationToken.None)).Should().BeNull();
        (await Auth.ValidateAsync(renewed.AccessToken, CancellationToken.None))!.UserId.Should().Be(user.Id);
        (await reuse.Should().ThrowAsync<TwitchApiException>()).Which.Status.Should().Be(HttpStatusCode.BadRequest);
        _logs.Should().NotContain(m => m.Contains(refresh, StringComparison.Ordinal) || m.Contains(renewed.AccessToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_revoked_token_no_longer_validates_and_revoking_again_is_harmless()
    {
        var user = _twitch.AddUser();
        var (access, _) = _twitch.IssueUserToken(user.Id, []);

        await Auth.RevokeAsync(access, CancellationToken.None);
        await Auth.RevokeAsync(access, CancellationToken.None);

        (await Auth.ValidateAsync(access, CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public async Task Custom_rewards_are_read_with_the_broadcasters_token()
    {
        var user = _twitch.AddUser();
        _twitch.Rewards[user.Id] = [new() { ["id"] = "reward-1", ["title"] = "Hydrate", ["cost"] = 100 }];
        var (access, _) = _twitch.IssueUserToken(user.Id, ["channel:read:redemptions"]);

        var rewards = await Helix.GetCustomRewardsAsync(user.Id, access, CancellationToken.None);

        rewards.Should().ContainSingle().Which.Title.Should().Be("Hydrate");
    }

    [Fact]
    public async Task Deleting_a_subscription_Twitch_no_longer_knows_counts_as_deleted()
    {
        await Helix.DeleteEventSubSubscriptionAsync(Guid.NewGuid().ToString(), CancellationToken.None);

        _twitch.Requests.Should().Contain("DELETE /helix/eventsub/subscriptions");
    }

    private static CreateEventSubSubscription StreamOnline(string broadcasterId, string callback) => new(
        "stream.online", "1",
        new Dictionary<string, string> { ["broadcaster_user_id"] = broadcasterId },
        new EventSubTransport("webhook", callback, TwitchWebhook.Secret));

    private sealed class ListLogger(ConcurrentQueue<string> messages) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue(formatter(state, exception) + " " + exception);

        public void Dispose()
        {
        }
    }
}
