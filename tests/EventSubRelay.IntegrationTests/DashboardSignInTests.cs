using System.Net;
using System.Text.RegularExpressions;
using EventSubRelay.IntegrationTests.FakeTwitch;
using EventSubRelay.IntegrationTests.Infrastructure;
using Serilog.Events;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// The dashboard's sign-in behind a TLS-terminating proxy (forwarded headers enabled, as in compose) and when it fails:
/// cookies, the OAuth redirect URL, and what a failure may show and must log.
/// </summary>
public sealed partial class DashboardSignInTests : IAsyncLifetime
{
    private const string PublicHost = "relay.example.com";

    private FakeTwitchServer _twitch = null!;
    private RelayFactory _relay = null!;

    public async Task InitializeAsync()
    {
        _twitch = await FakeTwitchServer.StartAsync();
        _twitch.AddUser("affiliate");
        var settings = _twitch.RelaySettings();
        settings["FORWARDEDHEADERS_ENABLED"] = "true";
        _relay = await RelayFactory.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _twitch.DisposeAsync();
    }

    [Fact]
    public async Task Behind_a_TLS_proxy_every_cookie_is_Secure_and_the_OAuth_redirect_names_the_public_host()
    {
        using var browser = new ProxiedBrowser(_relay.BaseAddress, "https", PublicHost);

        using var page = await browser.SendAsync(HttpMethod.Get, "/dashboard");
        var login = await browser.PostLoginAsync(await page.Content.ReadAsStringAsync());

        browser.SetCookies.Should().Contain(c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));
        login.StatusCode.Should().Be(HttpStatusCode.Redirect);
        var authorize = login.Headers.Location!;
        authorize.ToString().Should().StartWith(_twitch.AuthBaseUrl + "/oauth2/authorize")
            .And.Contain("redirect_uri=" + Uri.EscapeDataString($"https://{PublicHost}/dashboard/signin-twitch"));

        var signedIn = await browser.CompleteAtTwitchAsync(authorize);

        signedIn.Should().Contain("Log out", "the code exchange sends the same public redirect_uri, which the fake Twitch checks");
        browser.SetCookies.Should().Contain(c => c.StartsWith(".AspNetCore.Correlation.", StringComparison.Ordinal))
            .And.Contain(c => c.StartsWith("eventsubrelay.dashboard=", StringComparison.Ordinal))
            .And.OnlyContain(c => c.Contains("; secure", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Without_forwarded_headers_enabled_the_relay_ignores_what_a_client_claims_to_be_forwarded()
    {
        await using var relay = await RelayFactory.StartAsync(_twitch.RelaySettings());
        using var browser = new ProxiedBrowser(relay.BaseAddress, "https", PublicHost);

        using var page = await browser.SendAsync(HttpMethod.Get, "/dashboard");
        using var login = await browser.PostLoginAsync(await page.Content.ReadAsStringAsync());

        login.Headers.Location!.ToString().Should().Contain("redirect_uri=" + Uri.EscapeDataString(new Uri(relay.BaseAddress, "/dashboard/signin-twitch").ToString()));
        browser.SetCookies.Should().NotContain(c => c.Contains("; secure", StringComparison.OrdinalIgnoreCase), "the request came over plain http (Testing allows it)");
    }

    [Theory]
    [InlineData("denied", "You did not authorize the relay on Twitch.")]
    [InlineData("expired", "The sign-in expired or was started in another browser.")]
    [InlineData("failed", "Twitch could not be reached or refused the sign-in.")]
    public async Task A_known_login_error_code_shows_its_fixed_message(string code, string message)
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);

        var page = await dashboard.GetAsync($"/dashboard?loginError={code}");

        page.Should().Contain("id=\"login-error\"").And.Contain(message);
    }

    [Fact]
    public async Task Any_other_login_error_text_is_not_shown()
    {
        using var dashboard = new DashboardClient(_relay.BaseAddress);

        var page = await dashboard.GetAsync("/dashboard?loginError=" + Uri.EscapeDataString("Your channel is suspended: call +1 555 0100 now"));

        page.Should().NotContain("id=\"login-error\"").And.NotContain("suspended").And.Contain("Log in with Twitch");
    }

    [Fact]
    public async Task A_refused_consent_shows_the_fixed_message_and_not_the_text_of_the_link()
    {
        using var browser = new ProxiedBrowser(_relay.BaseAddress, "https", PublicHost);
        using var page = await browser.SendAsync(HttpMethod.Get, "/dashboard");
        using var login = await browser.PostLoginAsync(await page.Content.ReadAsStringAsync());
        var state = System.Web.HttpUtility.ParseQueryString(login.Headers.Location!.Query)["state"]!;

        var description = "Your account is locked, call +1 555 0100 " + new string('x', 6_000);

        var shown = await browser.FollowAsync(new Uri(
            $"https://{PublicHost}/dashboard/signin-twitch?error=access_denied&error_description={Uri.EscapeDataString(description)}&state={Uri.EscapeDataString(state)}"));

        shown.Should().Contain("You did not authorize the relay on Twitch.").And.NotContain("locked");
        var logged = _relay.Logs.Events.Should().ContainSingle(e => e.MessageTemplate.Text.StartsWith("Twitch sign-in did not complete", StringComparison.Ordinal)).Subject;
        var loggedDescription = logged.Properties["Description"].ToString();
        loggedDescription.Should().StartWith("\"Your account is locked");
        loggedDescription.Length.Should().BeLessThan(600, "what the link says is logged, capped");
    }

    [Fact]
    public async Task A_callback_in_another_browser_than_the_one_that_started_is_an_expired_sign_in()
    {
        using var browser = new ProxiedBrowser(_relay.BaseAddress, "https", PublicHost);
        using var page = await browser.SendAsync(HttpMethod.Get, "/dashboard");
        using var login = await browser.PostLoginAsync(await page.Content.ReadAsStringAsync());
        using var fromTwitch = await browser.SendAsync(HttpMethod.Get, login.Headers.Location!);
        using var other = new ProxiedBrowser(_relay.BaseAddress, "https", PublicHost);

        var shown = await other.FollowAsync(fromTwitch.Headers.Location!);

        shown.Should().Contain("The sign-in expired or was started in another browser.");
    }

    [Theory]
    [InlineData("an invalid code")]
    [InlineData("Twitch answering 503")]
    [InlineData("Twitch unreachable")]
    public async Task A_failed_code_exchange_shows_a_fixed_message_and_logs_the_reason(string failure)
    {
        using var browser = new ProxiedBrowser(_relay.BaseAddress, "https", PublicHost);
        using var page = await browser.SendAsync(HttpMethod.Get, "/dashboard");
        using var login = await browser.PostLoginAsync(await page.Content.ReadAsStringAsync());
        using var fromTwitch = await browser.SendAsync(HttpMethod.Get, login.Headers.Location!);
        var callback = fromTwitch.Headers.Location!.ToString();
        switch (failure)
        {
            case "an invalid code":
                callback = CodeParameter().Replace(callback, "code=not-a-code");
                break;
            case "Twitch answering 503":
                _twitch.FailNext(1);
                break;
            default:
                await _twitch.DisposeAsync();
                break;
        }

        var shown = await browser.FollowAsync(new Uri(callback));

        shown.Should().Contain("Twitch could not be reached or refused the sign-in.")
            .And.NotContain("127.0.0.1").And.NotContain("Status:").And.NotContain("Invalid authorization code").And.NotContain("refused (");
        _relay.Logs.Events.Should().Contain(e => e.Level == LogEventLevel.Warning && e.MessageTemplate.Text.StartsWith("Twitch sign-in did not complete", StringComparison.Ordinal)
            && e.Properties["LoginError"].ToString() == "\"failed\"");
    }

    [GeneratedRegex("code=[^&]+")]
    private static partial Regex CodeParameter();

    /// <summary>
    /// A browser behind a TLS proxy: every request to the relay carries X-Forwarded-Proto and -Host, redirects are
    /// followed by hand (to the fake Twitch and back to the public host, which is the relay), and cookies are sent
    /// whatever their Secure flag, as the proxy's https would allow.
    /// </summary>
    private sealed class ProxiedBrowser(Uri relay, string scheme, string host) : IDisposable
    {
        private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        private readonly Dictionary<string, string> _cookies = [];

        /// <summary>Every Set-Cookie header the relay sent.</summary>
        public List<string> SetCookies { get; } = [];

        public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null) =>
            await SendAsync(method, new Uri(relay, path), content);

        public async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, HttpContent? content = null)
        {
            var toRelay = uri.Host == host || uri.Authority == relay.Authority;
            using var request = new HttpRequestMessage(method, toRelay ? new Uri(relay, uri.PathAndQuery) : uri) { Content = content };
            if (toRelay)
            {
                request.Headers.Add("X-Forwarded-Proto", scheme);
                request.Headers.Add("X-Forwarded-Host", host);
                if (_cookies.Count > 0)
                {
                    request.Headers.Add("Cookie", string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}")));
                }
            }

            var response = await _http.SendAsync(request);
            if (toRelay && response.Headers.TryGetValues("Set-Cookie", out var setCookies))
            {
                foreach (var setCookie in setCookies)
                {
                    SetCookies.Add(setCookie);
                    var pair = setCookie.Split(';')[0].Split('=', 2);
                    _cookies[pair[0]] = pair[1];
                }
            }

            return response;
        }

        public Task<HttpResponseMessage> PostLoginAsync(string page)
        {
            var token = AntiforgeryToken().Match(page);
            token.Success.Should().BeTrue();
            return SendAsync(HttpMethod.Post, "/dashboard?handler=Login", new FormUrlEncodedContent([KeyValuePair.Create("__RequestVerificationToken", WebUtility.HtmlDecode(token.Groups[1].Value))]));
        }

        /// <summary>Signs in at the fake Twitch and follows every redirect back to the dashboard page.</summary>
        public Task<string> CompleteAtTwitchAsync(Uri authorize) => FollowAsync(authorize);

        /// <summary>Follows redirects from <paramref name="uri"/> to a page and returns its HTML.</summary>
        public async Task<string> FollowAsync(Uri uri)
        {
            for (var hops = 0; hops < 10; hops++)
            {
                using var response = await SendAsync(HttpMethod.Get, uri);
                if (response.StatusCode is not (HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther))
                {
                    response.StatusCode.Should().Be(HttpStatusCode.OK);
                    return await response.Content.ReadAsStringAsync();
                }

                var location = response.Headers.Location!;
                uri = location.IsAbsoluteUri ? location : new Uri(new Uri($"{scheme}://{host}"), location);
            }

            throw new InvalidOperationException("Too many redirects.");
        }

        public void Dispose() => _http.Dispose();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
