using System.Net;
using System.Text.RegularExpressions;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>
/// A browser-like HTTP client for the dashboard: keeps cookies, follows redirects (also to the fake Twitch and
/// back) and posts forms with the antiforgery token of the page it last loaded.
/// </summary>
public sealed partial class DashboardClient : IDisposable
{
    private readonly HttpClient _http;

    public DashboardClient(Uri relay, CookieCollection? cookies = null)
    {
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = true }) { BaseAddress = relay };
        foreach (Cookie cookie in cookies ?? [])
        {
            Cookies.Add(relay, new Cookie(cookie.Name, cookie.Value, "/"));
        }
    }

    public CookieContainer Cookies { get; } = new();

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>The HTML of the last page loaded.</summary>
    public string Page { get; private set; } = "";

    public async Task<string> GetAsync(string path = "/dashboard")
    {
        using var response = await _http.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return Page = await response.Content.ReadAsStringAsync();
    }

    /// <summary>Submits a form of the dashboard (its page handler and fields) and returns the page it ends on.</summary>
    public async Task<string> PostAsync(string handler, params (string Name, string Value)[] fields)
    {
        if (Page.Length == 0)
        {
            await GetAsync();
        }

        var token = AntiforgeryToken().Match(Page);
        token.Success.Should().BeTrue("every dashboard form carries an antiforgery token");
        var form = fields.Select(f => KeyValuePair.Create(f.Name, f.Value)).Append(KeyValuePair.Create("__RequestVerificationToken", WebUtility.HtmlDecode(token.Groups[1].Value)));
        using var response = await _http.PostAsync($"/dashboard?handler={handler}", new FormUrlEncodedContent(form));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return Page = await response.Content.ReadAsStringAsync();
    }

    /// <summary>Posts without the antiforgery token, as a cross-site form would.</summary>
    public async Task<HttpStatusCode> PostWithoutTokenAsync(string handler)
    {
        using var response = await _http.PostAsync($"/dashboard?handler={handler}", new FormUrlEncodedContent([]));
        return response.StatusCode;
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
