using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EventSubRelay.Accounts;
using EventSubRelay.IntegrationTests.FakeTwitch;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// The dashboard end to end against the strict fake Twitch: log in with OAuth, link, choose events, the relay
/// creates and verifies the subscriptions through its real /eventsub, a notification reaches an overlay, unlink
/// removes everything; token refresh and its failure; Twitch-side revocation.
/// </summary>
public sealed partial class AccountTests : IAsyncLifetime
{
    private FakeTwitchServer _twitch = null!;
    private RelayFactory _relay = null!;
    private FakeUser _user = null!;

    public async Task InitializeAsync()
    {
        _twitch = await FakeTwitchServer.StartAsync();
        _user = _twitch.AddUser("affiliate");
        var port = RelayFactory.FreePort();
        var settings = _twitch.RelaySettings(new Uri($"http://127.0.0.1:{port}"));
        // The first Helix call of a cold process (app token, connection) may take longer than the production default.
        settings["Twitch:EnrichmentTimeoutMilliseconds"] = "5000";
        _relay = await RelayFactory.StartAsync(settings, port: port);
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _twitch.DisposeAsync();
    }

    [Fact]
    public async Task Login_link_choose_events_subscribe_notify_and_unlink()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        (await dashboard.GetAsync()).Should().Contain("Log in with Twitch");

        var linked = await dashboard.PostAsync("Login");

        linked.Should().Contain(_user.DisplayName);
        _twitch.LastAuthorizeQuery.Should().Contain("moderator%3Aread%3Afollowers").And.NotContain("force_verify", "a first link does not force the consent screen");
        _twitch.LastAuthorizeQuery.Should().NotContain("bits%3Aread", "only the scopes of the chosen events are asked for");
        var token = _twitch.ActiveTokensOf(_user.Id).Should().ContainSingle().Subject;
        var stored = await Database.ScalarAsync<string>(_relay.ConnectionString, "SELECT protected_access_token FROM linked_accounts WHERE broadcaster_user_id = @id", ("id", _user.Id));
        stored.Should().NotContain(token, "tokens are encrypted at rest");
        (await Database.CountAsync(_relay.ConnectionString, "SELECT count(*) FROM data_protection_keys")).Should().BeGreaterThan(0, "the key ring lives in PostgreSQL");

        // Choosing cheers (affiliate-only) needs bits:read, which the first link did not grant: the page says to re-link.
        var chosen = await dashboard.PostAsync("Events", ("events", "follow"), ("events", "raid"), ("events", "cheer"), ("events", "whisper"));
        chosen.Should().Contain("id=\"missing-scopes\"").And.Contain("bits:read");
        var withoutScope = await _relay.Services.GetRequiredService<SubscriptionSync>().SyncAsync(CancellationToken.None);
        withoutScope!.Blocked.Values.Should().Equal(["subscription missing proper authorization"], "Twitch refuses the cheer subscription until the streamer grants bits:read");
        (await dashboard.GetAsync()).Should().Contain("blocked: subscription missing proper authorization");
        var relinked = await dashboard.PostAsync("Login", ("relink", "true"));
        relinked.Should().NotContain("id=\"missing-scopes\"");
        _twitch.LastAuthorizeQuery.Should().Contain("force_verify=true").And.Contain("bits%3Aread");

        await SyncAsync();
        var subscriptions = _twitch.Subscriptions.ToList();
        subscriptions.Select(s => (s.Type, s.Version)).Should().BeEquivalentTo([
            ("channel.follow", "2"), ("channel.raid", "1"), ("channel.cheer", "1"), ("user.whisper.message", "1"), ("user.authorization.revoke", "1")]);
        (await Task.WhenAll(subscriptions.Select(s => s.Verified.Task.WaitAsync(TimeSpan.FromSeconds(20))))).Should().OnlyContain(s => s == "enabled");
        (await dashboard.GetAsync()).Should().Contain("channel.follow").And.Contain("enabled").And.NotContain("webhook_callback_verification_pending",
            "the relay records a subscription enabled when it answers Twitch's challenge, and the reconciliation does not undo that");

        var overlayUrl = OverlayUrl().Match(await dashboard.PostAsync("CreateToken", ("name", "alert box")));
        overlayUrl.Success.Should().BeTrue();
        await using var overlay = await _relay.ConnectSubscribedAsync(Uri.UnescapeDataString(overlayUrl.Groups[1].Value));
        var follow = subscriptions.Single(s => s.Type == "channel.follow");
        using (var response = await _twitch.SendNotificationAsync(follow, FollowEvent()))
        {
            response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        var received = await overlay.NextAsync();
        received.Event.Type.Should().Be("Follow");
        received.BroadcasterUserId.Should().Be(_user.Id);

        var closed = new TaskCompletionSource();
        overlay.Connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        (await dashboard.PostAsync("Unlink", ("deleteHistory", "true"))).Should().Contain("Log in with Twitch");

        _twitch.Subscriptions.Select(s => s.Type).Should().Equal(["user.authorization.revoke"], "the channel's subscriptions are deleted; the app-wide one stays");
        _twitch.ActiveTokensOf(_user.Id).Should().BeEmpty("the token is revoked with Twitch");
        (await Database.CountAsync(_relay.ConnectionString, "SELECT count(*) FROM linked_accounts")).Should().Be(0);
        (await Database.CountAsync(_relay.ConnectionString, "SELECT count(*) FROM overlay_events WHERE broadcaster_user_id = @id", ("id", _user.Id))).Should().Be(0);
        (await Database.CountAsync(_relay.ConnectionString, "SELECT count(*) FROM overlay_tokens WHERE broadcaster_user_id = @id", ("id", _user.Id))).Should().Be(0);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_dashboard_shows_each_connected_overlay_with_the_last_event_it_was_sent_and_showed()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        await dashboard.PostAsync("Login");
        await using var overlay = await _relay.ConnectOverlayAsync(await _relay.CreateOverlayTokenAsync(_user.Id, "alert box"));
        await overlay.SubscribeAsync("Follow");
        (await dashboard.GetAsync()).Should().Contain("alert box").And.Contain("nothing sent yet").And.Contain("no alert shown yet");

        await _relay.SendNotificationAsync(_user.Id);
        var follow = await overlay.NextAsync();
        await overlay.Connection.InvokeAsync("Ack", follow.Id);

        var page = await dashboard.GetAsync();
        page.Should().Contain($"last sent: Follow at {follow.TimeStamp:u}").And.Contain("last alert shown");
    }

    [Fact]
    public async Task Raids_redemptions_and_cheers_are_enriched_from_helix()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        await dashboard.PostAsync("Login");
        await dashboard.PostAsync("Events", ("events", "raid"), ("events", "redemption"), ("events", "cheer"));
        await dashboard.PostAsync("Login", ("relink", "true"));
        var rewardId = Guid.NewGuid().ToString();
        _twitch.Rewards[_user.Id] = [new JsonObject
        {
            ["broadcaster_id"] = _user.Id, ["id"] = rewardId, ["title"] = "Hydrate", ["prompt"] = "Drink water", ["cost"] = 100,
            ["background_color"] = "#00E5CB", ["is_enabled"] = true, ["is_paused"] = false, ["is_user_input_required"] = true,
        }];
        var raider = _twitch.AddUser("partner");
        await using var overlay = await _relay.SubscribedOverlayAsync(_user.Id);

        await _relay.SendNotificationAsync(_user.Id, "channel.raid", "1", new JsonObject
        {
            ["from_broadcaster_user_id"] = raider.Id, ["from_broadcaster_user_login"] = raider.Login, ["from_broadcaster_user_name"] = raider.DisplayName,
            ["to_broadcaster_user_id"] = _user.Id, ["to_broadcaster_user_login"] = _user.Login, ["to_broadcaster_user_name"] = _user.DisplayName, ["viewers"] = 12,
        });
        await _relay.SendNotificationAsync(_user.Id, "channel.channel_points_custom_reward_redemption.add", "1", new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(), ["broadcaster_user_id"] = _user.Id, ["broadcaster_user_login"] = _user.Login, ["broadcaster_user_name"] = _user.DisplayName,
            ["user_id"] = "67890", ["user_login"] = "viewer", ["user_name"] = "Viewer", ["user_input"] = "", ["status"] = "unfulfilled",
            ["reward"] = new JsonObject { ["id"] = rewardId, ["title"] = "Hydrate", ["cost"] = 100, ["prompt"] = "Drink water" }, ["redeemed_at"] = "2026-11-30T18:00:00Z",
        });
        await _relay.SendNotificationAsync(_user.Id, "channel.cheer", "1", new JsonObject
        {
            ["is_anonymous"] = false, ["user_id"] = "67890", ["user_login"] = "viewer", ["user_name"] = "Viewer",
            ["broadcaster_user_id"] = _user.Id, ["broadcaster_user_login"] = _user.Login, ["broadcaster_user_name"] = _user.DisplayName,
            ["message"] = "Cheer150 well played", ["bits"] = 150,
        });

        // A chatter's first message (which also makes FirstWord) is enriched like any other.
        var chat = TwitchWebhook.ChatEvent(_user.Id, "Cheer100 hype");
        chat["message"]!["fragments"] = new JsonArray(
            new JsonObject { ["type"] = "cheermote", ["text"] = "Cheer100", ["cheermote"] = new JsonObject { ["prefix"] = "cheer", ["bits"] = 100, ["tier"] = 100 }, ["emote"] = null, ["mention"] = null },
            new JsonObject { ["type"] = "text", ["text"] = " hype", ["cheermote"] = null, ["emote"] = null, ["mention"] = null });
        chat["cheer"] = new JsonObject { ["bits"] = 100 };
        await _relay.SendNotificationAsync(_user.Id, "channel.chat.message", "1", chat);

        var envelopes = await overlay.WaitForAsync(5);
        envelopes.Select(e => e.Event.Type).Should().Equal("Raid", "RewardRedemption", "Cheer", "ChatMessage", "FirstWord");
        JsonNode.Parse(envelopes[3].Data.GetRawText())!["message"]!["cheerEmotes"]![0]!["color"]!.GetValue<string>().Should().Be("#9c3ee8");
        var received = envelopes.Select(e => JsonNode.Parse(e.Data.GetRawText())!).ToList();
        received[0]["profileImage"]!.GetValue<string>().Should().Be($"https://static-cdn.example/{raider.Id}.png");
        received[1]["backgroundColor"]!.GetValue<string>().Should().Be("#00E5CB");
        received[1]["inputRequired"]!.GetValue<bool>().Should().BeTrue();
        var cheermote = received[2]["message"]!["cheerEmotes"]![0]!;
        cheermote["color"]!.GetValue<string>().Should().Be("#9c3ee8", "150 bits reach the 100 tier");
        cheermote["imageUrl"]!.GetValue<string>().Should().EndWith("/dark/animated/100/2.gif");
    }

    [Fact]
    public async Task A_subscription_Twitch_revokes_shows_its_reason_on_the_dashboard()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        var follow = await LinkUntilVerifiedAsync(dashboard, "channel.follow");

        using var response = await _twitch.RevokeSubscriptionAsync(follow, "moderator_removed");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await dashboard.GetAsync()).Should().MatchRegex(@"<td>channel\.follow</td><td>2</td><td>moderator_removed</td>");
    }

    [Fact]
    public async Task A_regular_channel_is_offered_no_affiliate_only_events()
    {
        var regular = _twitch.AddUser(broadcasterType: "");
        _twitch.SignInAs = regular.Login;
        using var dashboard = new DashboardClient(_relay.BaseAddress);

        var page = await dashboard.PostAsync("Login");

        page.Should().Contain(regular.DisplayName).And.Contain("value=\"follow\"").And.NotContain("value=\"cheer\"").And.NotContain("value=\"poll.begin\"");
        await dashboard.PostAsync("Events", ("events", "follow"), ("events", "cheer"), ("events", "subscribe"));
        (await Database.ScalarAsync<string[]>(_relay.ConnectionString, "SELECT chosen_events FROM linked_accounts WHERE broadcaster_user_id = @id", ("id", regular.Id)))
            .Should().Equal("follow");
    }

    [Fact]
    public async Task A_subscription_deleted_behind_the_relays_back_is_recreated_by_the_next_reconciliation()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        await dashboard.PostAsync("Login");
        await SyncAsync();
        var follow = _twitch.Subscriptions.Single(s => s.Type == "channel.follow");
        _twitch.DeleteSubscription(follow.Id).Should().BeTrue();

        await SyncAsync();

        var recreated = _twitch.Subscriptions.Should().ContainSingle(s => s.Type == "channel.follow").Subject;
        recreated.Id.Should().NotBe(follow.Id);
        (await recreated.Verified.Task.WaitAsync(TimeSpan.FromSeconds(20))).Should().Be("enabled");
        MaxTotalCostGauge().Should().Be(10_000, "Twitch's cost limit is exported");
    }

    [Fact]
    public async Task With_a_certificate_the_key_ring_in_the_database_is_encrypted_too()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=EventSubRelay data protection", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(Path.GetTempPath(), $"esr-{Guid.NewGuid():N}.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "test-password"));
        try
        {
            var settings = _twitch.RelaySettings();
            settings["DataProtection:CertificatePath"] = path;
            settings["DataProtection:CertificatePassword"] = "test-password";
            await using var relay = await RelayFactory.StartAsync(settings);
            using var dashboard = new DashboardClient(relay.BaseAddress);

            (await dashboard.PostAsync("Login")).Should().Contain(_user.DisplayName);

            var ring = await Database.ScalarAsync<string>(relay.ConnectionString, "SELECT string_agg(xml, '') FROM data_protection_keys");
            ring.Should().Contain("EncryptedKey").And.NotContain("<masterKey", "the key material is encrypted with the certificate");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("code=abc&state=forged")]
    [InlineData("error=access_denied&error_description=The+user+denied+you+access&state=forged")]
    public async Task A_forged_sign_in_returns_to_the_dashboard_with_the_fixed_reason(string query)
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);

        var page = await dashboard.GetAsync("/dashboard/signin-twitch?" + query);

        page.Should().Contain("id=\"login-error\"").And.Contain("The sign-in expired").And.NotContain("denied you access").And.Contain("Log in with Twitch");
        (await Database.CountAsync(_relay.ConnectionString, "SELECT count(*) FROM linked_accounts")).Should().Be(0);
    }

    [Fact]
    public async Task A_second_instance_on_the_same_database_reads_the_tokens_and_the_sign_in_cookie()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        await dashboard.PostAsync("Login");
        await using var other = await RelayFactory.StartAsync(_twitch.RelaySettings(), connectionString: _relay.ConnectionString);

        await using (var scope = other.Services.CreateAsyncScope())
        {
            var accounts = scope.ServiceProvider.GetRequiredService<LinkedAccounts>();
            var account = await accounts.FindAsync(_user.Id, CancellationToken.None);
            accounts.AccessToken(account!).Should().Be(_twitch.ActiveTokensOf(_user.Id).Single(), "the key ring is shared through PostgreSQL");
        }

        using var elsewhere = new DashboardClient(other.BaseAddress, dashboard.Cookies.GetCookies(dashboard.BaseAddress));
        (await elsewhere.GetAsync()).Should().Contain(_user.DisplayName, "a cookie issued by one instance signs in on another");
    }

    [Fact]
    public async Task The_dashboard_cannot_be_framed_and_its_forms_post_only_to_the_relay_and_twitch()
    {
        using var client = _relay.CreateRelayClient();

        using var response = await client.GetAsync("/dashboard");

        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        policy.Should().Contain("frame-ancestors 'none'").And.Contain($"form-action 'self' {_twitch.AuthBaseUrl}");
        response.Headers.GetValues("X-Frame-Options").Should().Equal("DENY");
    }

    [Fact]
    public async Task Forms_without_an_antiforgery_token_are_refused()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        await dashboard.PostAsync("Login");

        (await dashboard.PostWithoutTokenAsync("Unlink")).Should().Be(HttpStatusCode.BadRequest);
        (await Database.CountAsync(_relay.ConnectionString, "SELECT count(*) FROM linked_accounts")).Should().Be(1);
    }

    [Fact]
    public async Task Tokens_are_refreshed_before_they_expire_and_a_refused_refresh_asks_for_a_relink()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        await dashboard.PostAsync("Login");
        var first = _twitch.ActiveTokensOf(_user.Id).Single();
        await ExpireSoonAsync();

        (await RefreshAsync()).Should().Be(1);

        var second = _twitch.ActiveTokensOf(_user.Id).Should().ContainSingle().Subject;
        second.Should().NotBe(first);
        (await RefreshAsync()).Should().Be(0, "the new token is far from expiring");

        _twitch.RevokeUserTokens(_user.Id);
        await ExpireSoonAsync();
        (await RefreshAsync()).Should().Be(0);

        (await dashboard.GetAsync()).Should().Contain("id=\"needs-relink\"").And.Contain("Invalid refresh token");
        (await dashboard.PostAsync("Login", ("relink", "true"))).Should().NotContain("id=\"needs-relink\"");
    }

    [Fact]
    public async Task Tokens_that_can_no_longer_be_decrypted_ask_for_a_relink_instead_of_failing()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        await dashboard.PostAsync("Login");
        // As after a restore without the key ring: the stored ciphertext no longer matches any key.
        await Database.ExecuteAsync(_relay.ConnectionString,
            "UPDATE linked_accounts SET protected_access_token = 'CfDJ8garbage', protected_refresh_token = 'CfDJ8garbage', expires_at = now()");

        (await RefreshAsync()).Should().Be(0);

        (await dashboard.GetAsync()).Should().Contain("id=\"needs-relink\"").And.Contain("can no longer be decrypted");
        (await dashboard.PostAsync("Login", ("relink", "true"))).Should().NotContain("id=\"needs-relink\"");
        (await dashboard.PostAsync("Unlink")).Should().Contain("Log in with Twitch");
    }

    [Fact]
    public async Task Twitch_reporting_the_authorization_revoked_unlinks_the_account()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);
        var revoke = await LinkUntilVerifiedAsync(dashboard, "user.authorization.revoke");
        var handled = new TaskCompletionSource<bool>();
        _relay.Services.GetRequiredService<AuthorizationRevocations>().Handled += (user, unlinked) =>
        {
            if (user == _user.Id)
            {
                handled.TrySetResult(unlinked);
            }
        };

        using var response = await _twitch.SendNotificationAsync(revoke, new JsonObject
        {
            ["client_id"] = FakeTwitchServer.ClientId, ["user_id"] = _user.Id, ["user_login"] = _user.Login, ["user_name"] = _user.DisplayName,
        });

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await handled.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
        (await Database.CountAsync(_relay.ConnectionString, "SELECT count(*) FROM linked_accounts")).Should().Be(0);
        (await dashboard.GetAsync()).Should().Contain("Log in with Twitch");
    }

    [Fact]
    public async Task Without_twitch_settings_the_dashboard_says_so_and_overlays_still_work()
    {
        await using var relay = await RelayFactory.StartAsync();
        using var dashboard = new DashboardClient(relay.BaseAddress);

        var page = await dashboard.GetAsync();
        page.Should().Contain("id=\"not-configured\"").And.NotContain("Log in with Twitch");
        page.Should().Contain("<code>Twitch:ClientId</code>").And.Contain("<code>Twitch__ClientId</code>").And.Contain("<code>TWITCH_CLIENT_ID</code>")
            .And.Contain("<code>Twitch__ClientSecret</code>").And.Contain("<code>TWITCH_CALLBACK_URL</code>");
        page.Should().Contain("id=\"works-without-app\"").And.Contain("overlay-token create").And.Contain("/api/test-alerts");
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await relay.SubscribedOverlayAsync(broadcaster, "Follow");
        var sent = await relay.SendNotificationAsync(broadcaster);
        (await overlay.NextAsync()).Id.Should().Be(sent);
    }

    /// <summary>Links the account, creates its subscriptions and waits until Twitch has verified the one of this type.</summary>
    private async Task<FakeSubscription> LinkUntilVerifiedAsync(DashboardClient dashboard, string type)
    {
        await dashboard.PostAsync("Login");
        await SyncAsync();
        var subscription = _twitch.Subscriptions.Single(s => s.Type == type);
        (await subscription.Verified.Task.WaitAsync(TimeSpan.FromSeconds(20))).Should().Be("enabled");
        return subscription;
    }

    private async Task SyncAsync()
    {
        var result = await _relay.Services.GetRequiredService<SubscriptionSync>().SyncAsync(CancellationToken.None);
        result.Should().NotBeNull();
        result!.Blocked.Should().BeEmpty();
    }

    /// <summary>
    /// The cost-limit gauge of this relay's meters. Read with a listener scoped to the relay's meter factory: relays of
    /// other tests in this process publish meters of the same name, which a /metrics scrape here would also see.
    /// </summary>
    private int? MaxTotalCostGauge()
    {
        var factory = _relay.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        int? value = null;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "eventsubrelay.eventsub.max_total_cost")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, measurement, _, _) => value = measurement);
        listener.Start();
        listener.RecordObservableInstruments();
        return value;
    }

    private Task<int> RefreshAsync() => _relay.Services.GetRequiredService<TokenRefresher>().RefreshDueAsync(CancellationToken.None);

    private Task ExpireSoonAsync() =>
        Database.ExecuteAsync(_relay.ConnectionString, "UPDATE linked_accounts SET expires_at = now() + interval '1 minute'");

    private JsonObject FollowEvent() => new()
    {
        ["user_id"] = "67890", ["user_login"] = "new_follower", ["user_name"] = "New_Follower",
        ["broadcaster_user_id"] = _user.Id, ["broadcaster_user_login"] = _user.Login, ["broadcaster_user_name"] = _user.DisplayName,
        ["followed_at"] = "2026-11-30T18:30:00.000000000Z",
    };

    [GeneratedRegex("<code id=\"new-overlay-url\">[^<]*#token=([^<]+)</code>")]
    private static partial Regex OverlayUrl();
}
