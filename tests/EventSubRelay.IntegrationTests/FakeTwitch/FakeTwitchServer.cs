using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventSubRelay.IntegrationTests.FakeTwitch;

/// <summary>
/// A strict fake of id.twitch.tv and api.twitch.tv/helix on a loopback Kestrel port. It answers the way Twitch does,
/// including the error bodies ({"error","status","message"}), and rejects what Twitch would reject.
/// </summary>
public sealed class FakeTwitchServer : IAsyncDisposable
{
    // Shaped like what Twitch issues (30 lowercase letters and digits), which the relay checks at start-up.
    public const string ClientId = "fakeclientid000000000000000000";
    public const string ClientSecret = "fakeclientsecret00000000000000";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, IssuedToken> _tokens = new();
    private readonly ConcurrentDictionary<string, IssuedToken> _refreshTokens = new();
    private readonly ConcurrentDictionary<string, (string UserId, string[] Scopes, string RedirectUri)> _codes = new();
    private readonly ConcurrentDictionary<string, FakeSubscription> _subscriptions = new();
    private readonly object _subscriptionLock = new();
    private int _rateLimitedRequests;
    private int _failingRequests;
    private long _sequence;

    private FakeTwitchServer(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, FakeUser> Users { get; } = new();

    public ConcurrentDictionary<string, List<JsonObject>> Rewards { get; } = new();

    /// <summary>Twitch's page size for Get EventSub Subscriptions is 100; tests lower it to exercise the cursor.</summary>
    public int PageSize { get; set; } = 100;

    public int MaxTotalCost { get; set; } = 10_000;

    public string WebhookSecretSeen { get; private set; } = "";

    /// <summary>Every request the fake received, as "METHOD /path".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public Uri BaseAddress => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public string AuthBaseUrl => BaseAddress.ToString().TrimEnd('/');

    public string HelixBaseUrl => AuthBaseUrl + "/helix";

    /// <summary>Settings pointing the relay at this fake.</summary>
    public Dictionary<string, string?> RelaySettings(Uri? relay = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Twitch:ClientId"] = ClientId,
            ["Twitch:ClientSecret"] = ClientSecret,
            ["Twitch:AuthBaseUrl"] = AuthBaseUrl,
            ["Twitch:HelixBaseUrl"] = HelixBaseUrl,
        };
        if (relay is not null)
        {
            settings["Twitch:PublicCallbackUrl"] = new Uri(relay, "/eventsub").ToString();
        }

        return settings;
    }

    public IReadOnlyCollection<FakeSubscription> Subscriptions => [.. _subscriptions.Values];

    public static async Task<FakeTwitchServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient();
        var app = builder.Build();
        var fake = new FakeTwitchServer(app);
        fake.Map(app);
        await app.StartAsync();
        return fake;
    }

    /// <summary>The next <paramref name="count"/> requests are answered 429 with Ratelimit-Reset one second ahead.</summary>
    public void RateLimitNext(int count) => Interlocked.Exchange(ref _rateLimitedRequests, count);

    /// <summary>The next <paramref name="count"/> requests are answered 503, like a Helix outage.</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref _failingRequests, count);

    public FakeUser AddUser(string? broadcasterType = "affiliate")
    {
        var id = TwitchWebhook.NewBroadcasterId();
        var user = new FakeUser(id, "user" + id, "User" + id, broadcasterType ?? "");
        Users[id] = user;
        return user;
    }

    /// <summary>Issues a user token directly, as if the user had completed the authorization code flow.</summary>
    public (string AccessToken, string RefreshToken) IssueUserToken(string userId, string[] scopes, int expiresIn = 14400)
    {
        var token = Issue(userId, scopes, expiresIn);
        return (token.AccessToken, token.RefreshToken!);
    }

    /// <summary>Twitch-side revocation: the token and its refresh token stop working.</summary>
    public void RevokeUserTokens(string userId)
    {
        foreach (var (key, token) in _tokens.Where(t => t.Value.UserId == userId).ToList())
        {
            _tokens.TryRemove(key, out _);
            if (token.RefreshToken is not null)
            {
                _refreshTokens.TryRemove(token.RefreshToken, out _);
            }
        }
    }

    /// <summary>The user's access tokens that still work.</summary>
    public IReadOnlyList<string> ActiveTokensOf(string userId) => [.. _tokens.Values.Where(t => t.UserId == userId && t.ExpiresAt > DateTimeOffset.UtcNow).Select(t => t.AccessToken)];

    /// <summary>Deletes a subscription behind the relay's back.</summary>
    public bool DeleteSubscription(string id) => _subscriptions.TryRemove(id, out _);

    /// <summary>Posts a signed notification for an enabled subscription to its callback, as Twitch does.</summary>
    public async Task<HttpResponseMessage> SendNotificationAsync(FakeSubscription subscription, JsonObject @event, string? messageId = null)
    {
        var body = new JsonObject { ["subscription"] = subscription.ToJson(), ["event"] = @event }.ToJsonString();
        return await PostToCallbackAsync(subscription, "notification", body, messageId ?? TwitchWebhook.NewMessageId(), CancellationToken.None);
    }

    /// <summary>Marks a subscription revoked and posts the revocation to its callback, as Twitch does.</summary>
    public async Task<HttpResponseMessage> RevokeSubscriptionAsync(FakeSubscription subscription, string reason)
    {
        subscription.Status = reason;
        var body = new JsonObject { ["subscription"] = subscription.ToJson() }.ToJsonString();
        var response = await PostToCallbackAsync(subscription, "revocation", body, TwitchWebhook.NewMessageId(), CancellationToken.None);
        _subscriptions.TryRemove(subscription.Id, out _);
        return response;
    }

    private IssuedToken Issue(string? userId, string[] scopes, int expiresIn)
    {
        var token = new IssuedToken(RandomToken(), userId is null ? null : RandomToken(), userId, scopes, DateTimeOffset.UtcNow.AddSeconds(expiresIn));
        _tokens[token.AccessToken] = token;
        if (token.RefreshToken is not null)
        {
            _refreshTokens[token.RefreshToken] = token;
        }

        return token;
    }

    private static string RandomToken() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(15)).ToLowerInvariant();

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.Path}");
            if (Interlocked.Decrement(ref _rateLimitedRequests) >= 0)
            {
                context.Response.Headers["Ratelimit-Limit"] = "800";
                context.Response.Headers["Ratelimit-Remaining"] = "0";
                context.Response.Headers["Ratelimit-Reset"] = DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                await Error(StatusCodes.Status429TooManyRequests, "Too Many Requests", "").ExecuteAsync(context);
                return;
            }

            if (Interlocked.Decrement(ref _failingRequests) >= 0)
            {
                await Error(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", "").ExecuteAsync(context);
                return;
            }

            await next(context);
        });

        app.MapGet("/oauth2/authorize", Authorize);
        app.MapPost("/oauth2/token", TokenAsync);
        app.MapGet("/oauth2/validate", Validate);
        app.MapPost("/oauth2/revoke", RevokeAsync);
        app.MapGet("/helix/users", GetUsers);
        app.MapPost("/helix/eventsub/subscriptions", CreateSubscriptionAsync);
        app.MapGet("/helix/eventsub/subscriptions", ListSubscriptions);
        app.MapDelete("/helix/eventsub/subscriptions", DeleteSubscriptionEndpoint);
        app.MapGet("/helix/channel_points/custom_rewards", GetRewards);
        app.MapGet("/helix/bits/cheermotes", GetCheermotes);
    }

    private static IResult Error(int status, string error, string message) =>
        Results.Json(new { error, status, message }, statusCode: status);

    /// <summary>Signs the user in as the first user (or the one named by the test via login_hint) and redirects back with code and state.</summary>
    private IResult Authorize(HttpRequest request)
    {
        var q = request.Query;
        if (q["client_id"] != ClientId)
        {
            return Error(400, "Bad Request", "invalid client");
        }

        if (q["response_type"] != "code" || string.IsNullOrEmpty(q["redirect_uri"]))
        {
            return Error(400, "Bad Request", "missing response_type or redirect_uri");
        }

        var user = Users.Values.FirstOrDefault(u => u.Login == (q["login_hint"].FirstOrDefault() ?? SignInAs)) ?? Users.Values.FirstOrDefault();
        if (user is null)
        {
            return Error(400, "Bad Request", "no user to sign in");
        }

        var code = RandomToken();
        var scopes = ((string?)q["scope"] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        _codes[code] = (user.Id, scopes, q["redirect_uri"]!);
        LastAuthorizeQuery = request.QueryString.Value ?? "";
        var redirect = $"{q["redirect_uri"]}?code={code}&scope={Uri.EscapeDataString(string.Join(' ', scopes))}&state={Uri.EscapeDataString(q["state"].ToString())}";
        return Results.Redirect(redirect);
    }

    public string LastAuthorizeQuery { get; private set; } = "";

    /// <summary>The login of the user who signs in at the next authorization without a login_hint (default: the first user).</summary>
    public string? SignInAs { get; set; }

    private async Task<IResult> TokenAsync(HttpRequest request)
    {
        if (!request.HasFormContentType)
        {
            return Error(400, "Bad Request", "missing client id");
        }

        var form = await request.ReadFormAsync();
        if (form["client_id"] != ClientId)
        {
            return Error(400, "Bad Request", "invalid client");
        }

        if (form["client_secret"] != ClientSecret)
        {
            return Error(403, "Forbidden", "invalid client secret");
        }

        switch ((string?)form["grant_type"])
        {
            case "client_credentials":
                var app = Issue(null, [], 5_000_000);
                return Results.Json(new { access_token = app.AccessToken, expires_in = 5_000_000, token_type = "bearer" });
            case "authorization_code":
                if (!_codes.TryRemove(form["code"].ToString(), out var grant))
                {
                    return Error(400, "Bad Request", "Invalid authorization code");
                }

                if (form["redirect_uri"] != grant.RedirectUri)
                {
                    return Error(400, "Bad Request", "Parameter redirect_uri does not match registered URI");
                }

                return TokenResponse(Issue(grant.UserId, grant.Scopes, 14400));
            case "refresh_token":
                if (!_refreshTokens.TryRemove(form["refresh_token"].ToString(), out var old))
                {
                    return Error(400, "Bad Request", "Invalid refresh token");
                }

                _tokens.TryRemove(old.AccessToken, out _);
                return TokenResponse(Issue(old.UserId, old.Scopes, 14400));
            default:
                return Error(400, "Bad Request", "Invalid grant type");
        }
    }

    private static IResult TokenResponse(IssuedToken token) => Results.Json(new
    {
        access_token = token.AccessToken,
        refresh_token = token.RefreshToken,
        expires_in = (int)(token.ExpiresAt - DateTimeOffset.UtcNow).TotalSeconds,
        scope = token.Scopes,
        token_type = "bearer",
    });

    private IResult Validate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("OAuth ", StringComparison.Ordinal) || !_tokens.TryGetValue(header["OAuth ".Length..], out var token) || token.ExpiresAt <= DateTimeOffset.UtcNow)
        {
            return Error(401, "Unauthorized", "invalid access token");
        }

        var user = token.UserId is null ? null : Users.GetValueOrDefault(token.UserId);
        return Results.Json(new
        {
            client_id = ClientId,
            login = user?.Login,
            user_id = token.UserId,
            scopes = token.Scopes,
            expires_in = (int)(token.ExpiresAt - DateTimeOffset.UtcNow).TotalSeconds,
        });
    }

    private async Task<IResult> RevokeAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["client_id"] != ClientId)
        {
            return Error(400, "Bad Request", "invalid client");
        }

        if (!_tokens.TryRemove(form["token"].ToString(), out var token))
        {
            return Error(400, "Bad Request", "Invalid token");
        }

        if (token.RefreshToken is not null)
        {
            _refreshTokens.TryRemove(token.RefreshToken, out _);
        }

        return Results.Ok();
    }

    /// <summary>Helix authentication: Client-Id must match the token's client and the token must be valid; 401 otherwise, like Twitch.</summary>
    private IssuedToken? Authenticate(HttpRequest request, out IResult? failure)
    {
        failure = null;
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            failure = Error(401, "Unauthorized", "OAuth token is missing");
            return null;
        }

        if (request.Headers["Client-Id"] != ClientId)
        {
            failure = Error(401, "Unauthorized", "Client ID and OAuth token do not match");
            return null;
        }

        if (!_tokens.TryGetValue(header["Bearer ".Length..], out var token) || token.ExpiresAt <= DateTimeOffset.UtcNow)
        {
            failure = Error(401, "Unauthorized", "Invalid OAuth token");
            return null;
        }

        return token;
    }

    private IResult GetUsers(HttpRequest request)
    {
        var token = Authenticate(request, out var failure);
        if (token is null)
        {
            return failure!;
        }

        var ids = request.Query["id"].Select(id => id!).ToList();
        var logins = request.Query["login"].Select(login => login!).ToList();
        if (ids.Count == 0 && logins.Count == 0 && token.UserId is null)
        {
            return Error(400, "Bad Request", "Must provide an ID, Login or OAuth Token");
        }

        // As Helix: at most 100 ids and logins together; a login is 1 to 25 letters, digits or underscores, matched in any case.
        if (ids.Count + logins.Count > 100)
        {
            return Error(400, "Bad Request", "The sum of the ID and login parameters must not exceed 100");
        }

        if (ids.Any(id => id.Length == 0 || !id.All(char.IsAsciiDigit)) || logins.Any(login => login.Length is 0 or > 25 || !login.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
        {
            return Error(400, "Bad Request", "Invalid login names, emails or IDs in request");
        }

        var users = (ids.Count == 0 && logins.Count == 0 ? [token.UserId!] : ids).Select(id => Users.GetValueOrDefault(id)).OfType<FakeUser>()
            .Concat(logins.Select(login => Users.Values.FirstOrDefault(u => string.Equals(u.Login, login, StringComparison.OrdinalIgnoreCase))).OfType<FakeUser>())
            .Distinct();
        return Results.Json(new { data = users.Select(u => u.ToJson()) });
    }

    private async Task<IResult> CreateSubscriptionAsync(HttpRequest request, IHttpClientFactory httpFactory)
    {
        var token = Authenticate(request, out var failure);
        if (token is null)
        {
            return failure!;
        }

        if (token.UserId is not null)
        {
            return Error(400, "Bad Request", "An app access token is required.");
        }

        if (request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
        {
            return Error(400, "Bad Request", "Content-Type must be application/json.");
        }

        JsonObject body;
        try
        {
            body = (await JsonNode.ParseAsync(request.Body))!.AsObject();
        }
        catch (JsonException)
        {
            return Error(400, "Bad Request", "Malformed request.");
        }

        var type = (string?)body["type"];
        var version = (string?)body["version"];
        var condition = body["condition"] as JsonObject;
        var transport = body["transport"] as JsonObject;
        if (type is null || version is null || condition is null || transport is null)
        {
            return Error(400, "Bad Request", "Malformed request.");
        }

        if (!FakeCatalogue.Types.TryGetValue((type, version), out var definition))
        {
            return Error(400, "Bad Request", "The combination of values in the type and version fields is not valid.");
        }

        var known = definition.Required.Concat(definition.Optional).ToHashSet();
        if (!definition.Required.All(c => condition[c] is JsonValue) || condition.Count == 0 || condition.Any(c => !known.Contains(c.Key) || c.Value is not JsonValue))
        {
            return Error(400, "Bad Request", "The condition is not valid for this subscription type.");
        }

        var callback = (string?)transport["callback"];
        var secret = (string?)transport["secret"];
        if ((string?)transport["method"] != "webhook" || callback is null || secret is null || secret.Length is < 10 or > 100)
        {
            return Error(400, "Bad Request", "The transport is not valid.");
        }

        // Authorization: the condition's user must have granted one of the scopes to this client.
        var user = definition.AuthorizingCondition is null ? null : (string?)condition[definition.AuthorizingCondition];
        var authorized = user is not null && _tokens.Values.Concat(_refreshTokens.Values).Any(t => t.UserId == user);
        if (definition.Scopes.Length > 0 && !_tokens.Values.Concat(_refreshTokens.Values).Any(t => t.UserId == user && definition.Scopes.Any(t.Scopes.Contains)))
        {
            return Error(403, "Forbidden", "subscription missing proper authorization");
        }

        // Twitch charges nothing for subscriptions the condition's user has authorized, and 1 otherwise.
        var cost = authorized || definition.AuthorizingCondition is null ? 0 : 1;

        FakeSubscription subscription;
        lock (_subscriptionLock)
        {
            var conditionJson = condition.ToJsonString();
            if (_subscriptions.Values.Any(s => s.Type == type && s.Version == version && s.Condition.ToJsonString() == conditionJson && s.Callback == callback))
            {
                return Error(409, "Conflict", "subscription already exists");
            }

            // Twitch answers the cost limit with a 429 that no Ratelimit-Reset lifts.
            if (TotalCost + cost > MaxTotalCost)
            {
                return Error(429, "Too Many Requests", "maximum total cost exceeded");
            }

            subscription = new FakeSubscription(Guid.NewGuid().ToString(), type, version, (JsonObject)condition.DeepClone(), callback, secret, cost, Interlocked.Increment(ref _sequence))
            {
                Status = "webhook_callback_verification_pending",
            };
            _subscriptions[subscription.Id] = subscription;
        }

        WebhookSecretSeen = secret;
        _ = VerifyCallbackAsync(subscription, httpFactory);
        return Results.Json(
            new { data = new[] { subscription.ToJson() }, total = _subscriptions.Count, total_cost = TotalCost, max_total_cost = MaxTotalCost },
            statusCode: StatusCodes.Status202Accepted);
    }

    private int TotalCost => _subscriptions.Values.Where(s => s.Status is "enabled" or "webhook_callback_verification_pending").Sum(s => s.Cost);

    /// <summary>Twitch enables the subscription only when the callback answers 2xx with exactly the challenge as its body.</summary>
    private async Task VerifyCallbackAsync(FakeSubscription subscription, IHttpClientFactory httpFactory)
    {
        var challenge = RandomToken();
        var body = new JsonObject { ["challenge"] = challenge, ["subscription"] = subscription.ToJson() }.ToJsonString();
        try
        {
            using var response = await PostToCallbackAsync(subscription, "webhook_callback_verification", body, TwitchWebhook.NewMessageId(), CancellationToken.None, httpFactory);
            var answer = await response.Content.ReadAsStringAsync();
            subscription.Status = response.IsSuccessStatusCode && answer == challenge ? "enabled" : "webhook_callback_verification_failed";
        }
        catch (HttpRequestException)
        {
            subscription.Status = "webhook_callback_verification_failed";
        }

        subscription.Verified.TrySetResult(subscription.Status);
    }

    private async Task<HttpResponseMessage> PostToCallbackAsync(FakeSubscription subscription, string messageType, string body, string messageId, CancellationToken cancellationToken, IHttpClientFactory? httpFactory = null)
    {
        var timestamp = TwitchWebhook.Timestamp(DateTimeOffset.UtcNow);
        var signature = "sha256=" + Convert.ToHexString(TwitchWebhook.Hmac(subscription.Secret, messageId + timestamp + body)).ToLowerInvariant();
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Callback)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Twitch-Eventsub-Message-Id", messageId);
        request.Headers.Add("Twitch-Eventsub-Message-Retry", "0");
        request.Headers.Add("Twitch-Eventsub-Message-Type", messageType);
        request.Headers.Add("Twitch-Eventsub-Message-Signature", signature);
        request.Headers.Add("Twitch-Eventsub-Message-Timestamp", timestamp);
        request.Headers.Add("Twitch-Eventsub-Subscription-Type", subscription.Type);
        request.Headers.Add("Twitch-Eventsub-Subscription-Version", subscription.Version);
        var http = (httpFactory ?? _app.Services.GetRequiredService<IHttpClientFactory>()).CreateClient();
        return await http.SendAsync(request, cancellationToken);
    }

    private IResult ListSubscriptions(HttpRequest request)
    {
        var token = Authenticate(request, out var failure);
        if (token is null)
        {
            return failure!;
        }

        if (token.UserId is not null)
        {
            return Error(401, "Unauthorized", "An app access token is required.");
        }

        var all = _subscriptions.Values.OrderBy(s => s.Sequence).ToList();
        var after = long.TryParse(request.Query["after"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var cursor) ? cursor : 0;
        if (request.Query.ContainsKey("after") && after == 0)
        {
            return Error(400, "Bad Request", "invalid cursor");
        }

        var page = all.Where(s => s.Sequence > after).Take(PageSize).ToList();
        var more = page.Count > 0 && all.Any(s => s.Sequence > page[^1].Sequence);
        return Results.Json(new
        {
            data = page.Select(s => s.ToJson()),
            total = all.Count,
            total_cost = TotalCost,
            max_total_cost = MaxTotalCost,
            pagination = more ? new { cursor = page[^1].Sequence.ToString(CultureInfo.InvariantCulture) } : (object)new { },
        });
    }

    private IResult DeleteSubscriptionEndpoint(HttpRequest request)
    {
        var token = Authenticate(request, out var failure);
        if (token is null)
        {
            return failure!;
        }

        var id = request.Query["id"].ToString();
        if (id.Length == 0)
        {
            return Error(400, "Bad Request", "Missing required parameter \"id\"");
        }

        return _subscriptions.TryRemove(id, out _) ? Results.NoContent() : Error(404, "Not Found", "subscription not found");
    }

    private IResult GetRewards(HttpRequest request)
    {
        var token = Authenticate(request, out var failure);
        if (token is null)
        {
            return failure!;
        }

        var broadcaster = request.Query["broadcaster_id"].ToString();
        if (token.UserId is null || token.UserId != broadcaster)
        {
            return Error(401, "Unauthorized", "The ID in broadcaster_id must match the user ID found in the request's OAuth token.");
        }

        if (!token.Scopes.Contains("channel:read:redemptions") && !token.Scopes.Contains("channel:manage:redemptions"))
        {
            return Error(401, "Unauthorized", "Missing scope: channel:read:redemptions or channel:manage:redemptions");
        }

        if (Users.GetValueOrDefault(broadcaster) is not { BroadcasterType: "affiliate" or "partner" })
        {
            return Error(403, "Forbidden", "The broadcaster must be a partner or affiliate.");
        }

        return Results.Json(new { data = Rewards.GetValueOrDefault(broadcaster) ?? [] });
    }

    private IResult GetCheermotes(HttpRequest request)
    {
        var token = Authenticate(request, out var failure);
        if (token is null)
        {
            return failure!;
        }

        return Results.Json(new
        {
            data = new[]
            {
                new { prefix = "Cheer", tiers = new[] { CheermoteTier("1", 1, "#979797"), CheermoteTier("100", 100, "#9c3ee8") }, type = "global_first_party", order = 1, is_charitable = false },
            },
        });
    }

    private static JsonObject CheermoteTier(string id, int minBits, string color)
    {
        JsonObject Scales(string theme, string format) => new()
        {
            ["1"] = $"https://d3aqoihi2n8ty8.cloudfront.net/actions/cheer/{theme}/{format}/{id}/1.gif",
            ["2"] = $"https://d3aqoihi2n8ty8.cloudfront.net/actions/cheer/{theme}/{format}/{id}/2.gif",
        };

        return new JsonObject
        {
            ["id"] = id, ["min_bits"] = minBits, ["color"] = color, ["can_cheer"] = true, ["show_in_bits_card"] = true,
            ["images"] = new JsonObject
            {
                ["dark"] = new JsonObject { ["animated"] = Scales("dark", "animated"), ["static"] = Scales("dark", "static") },
                ["light"] = new JsonObject { ["animated"] = Scales("light", "animated"), ["static"] = Scales("light", "static") },
            },
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record IssuedToken(string AccessToken, string? RefreshToken, string? UserId, string[] Scopes, DateTimeOffset ExpiresAt);
}

public sealed record FakeUser(string Id, string Login, string DisplayName, string BroadcasterType)
{
    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["login"] = Login,
        ["display_name"] = DisplayName,
        ["type"] = "",
        ["broadcaster_type"] = BroadcasterType,
        ["description"] = "",
        ["profile_image_url"] = $"https://static-cdn.example/{Id}.png",
        ["offline_image_url"] = "",
        ["created_at"] = "2020-01-01T00:00:00Z",
    };
}

public sealed class FakeSubscription(string id, string type, string version, JsonObject condition, string callback, string secret, int cost, long sequence)
{
    public string Id { get; } = id;
    public string Type { get; } = type;
    public string Version { get; } = version;
    public JsonObject Condition { get; } = condition;
    public string Callback { get; } = callback;
    public string Secret { get; } = secret;
    public int Cost { get; } = cost;
    public long Sequence { get; } = sequence;
    public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;
    public string Status { get; set; } = "webhook_callback_verification_pending";

    /// <summary>Completes with the status once the callback verification has run.</summary>
    public TaskCompletionSource<string> Verified { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["status"] = Status,
        ["type"] = Type,
        ["version"] = Version,
        ["condition"] = Condition.DeepClone(),
        ["created_at"] = CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        ["transport"] = new JsonObject { ["method"] = "webhook", ["callback"] = Callback },
        ["cost"] = Cost,
    };
}
