using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace EventSubRelay.Twitch;

/// <summary>
/// The Helix endpoints the relay uses. Calls made with the app access token renew it once when Twitch answers 401;
/// calls made with a user token take it as an argument so the caller decides what an expired token means.
/// </summary>
internal sealed class HelixClient(HttpClient http, AppAccessToken appToken, IOptions<TwitchOptions> options, ILogger<HelixClient> logger)
{
    public async Task<IReadOnlyList<TwitchUser>> GetUsersAsync(IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var query = string.Join('&', ids.Select(id => "id=" + Uri.EscapeDataString(id)));
        var page = await SendWithAppTokenAsync<HelixPage<TwitchUser>>(HttpMethod.Get, "users?" + query, null, "Get Users", cancellationToken);
        return page.Data;
    }

    /// <summary>The user with this login, or null when Twitch has none.</summary>
    public async Task<TwitchUser?> GetUserByLoginAsync(string login, CancellationToken cancellationToken)
    {
        var page = await SendWithAppTokenAsync<HelixPage<TwitchUser>>(HttpMethod.Get, "users?login=" + Uri.EscapeDataString(login), null, "Get Users", cancellationToken);
        return page.Data.Count > 0 ? page.Data[0] : null;
    }

    /// <summary>The user the token belongs to.</summary>
    public async Task<TwitchUser> GetUserAsync(string userAccessToken, CancellationToken cancellationToken)
    {
        using var request = UserRequest(HttpMethod.Get, "users", userAccessToken);
        var page = await SendAsync<HelixPage<TwitchUser>>(request, "Get Users", cancellationToken);
        return page.Data.Count > 0 ? page.Data[0] : throw new TwitchApiException(HttpStatusCode.NotFound, "Get Users", "no user for the token");
    }

    public async Task<CreatedEventSubSubscription> CreateEventSubSubscriptionAsync(CreateEventSubSubscription subscription, CancellationToken cancellationToken)
    {
        var page = await SendWithAppTokenAsync<HelixPage<EventSubSubscriptionInfo>>(HttpMethod.Post, "eventsub/subscriptions", subscription, "Create EventSub Subscription", cancellationToken);
        return new CreatedEventSubSubscription(page.Data[0], page.Total ?? 0, page.TotalCost ?? 0, page.MaxTotalCost ?? 0);
    }

    /// <summary>Every page of the app's subscriptions.</summary>
    public async Task<EventSubSubscriptionList> ListEventSubSubscriptionsAsync(CancellationToken cancellationToken)
    {
        var all = new List<EventSubSubscriptionInfo>();
        string? cursor = null;
        HelixPage<EventSubSubscriptionInfo> page;
        do
        {
            var path = cursor is null ? "eventsub/subscriptions" : "eventsub/subscriptions?after=" + Uri.EscapeDataString(cursor);
            page = await SendWithAppTokenAsync<HelixPage<EventSubSubscriptionInfo>>(HttpMethod.Get, path, null, "Get EventSub Subscriptions", cancellationToken);
            all.AddRange(page.Data);
            var next = page.Pagination?.Cursor;
            // A cursor that does not move would loop forever.
            cursor = string.IsNullOrEmpty(next) || next == cursor ? null : next;
        }
        while (cursor is not null);

        return new EventSubSubscriptionList(all, page.Total ?? all.Count, page.TotalCost ?? 0, page.MaxTotalCost ?? 0);
    }

    /// <summary>Deletes a subscription; one Twitch no longer knows counts as deleted.</summary>
    public async Task DeleteEventSubSubscriptionAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await SendWithAppTokenAsync<object?>(HttpMethod.Delete, "eventsub/subscriptions?id=" + Uri.EscapeDataString(id), null, "Delete EventSub Subscription", cancellationToken);
        }
        catch (TwitchApiException exception) when (exception.Status == HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>Needs a user token with channel:read:redemptions (or channel:manage:redemptions).</summary>
    public async Task<IReadOnlyList<CustomReward>> GetCustomRewardsAsync(string broadcasterId, string userAccessToken, CancellationToken cancellationToken)
    {
        using var request = UserRequest(HttpMethod.Get, "channel_points/custom_rewards?broadcaster_id=" + Uri.EscapeDataString(broadcasterId), userAccessToken);
        var page = await SendAsync<HelixPage<CustomReward>>(request, "Get Custom Reward", cancellationToken);
        return page.Data;
    }

    public async Task<IReadOnlyList<Cheermote>> GetCheermotesAsync(string? broadcasterId, CancellationToken cancellationToken)
    {
        var path = broadcasterId is null ? "bits/cheermotes" : "bits/cheermotes?broadcaster_id=" + Uri.EscapeDataString(broadcasterId);
        var page = await SendWithAppTokenAsync<HelixPage<Cheermote>>(HttpMethod.Get, path, null, "Get Cheermotes", cancellationToken);
        return page.Data;
    }

    private HttpRequestMessage UserRequest(HttpMethod method, string path, string userAccessToken)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", userAccessToken);
        request.Headers.Add("Client-Id", options.Value.ClientId);
        return request;
    }

    private async Task<T> SendWithAppTokenAsync<T>(HttpMethod method, string path, object? body, string operation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var token = await appToken.GetAsync(cancellationToken);
            using var request = UserRequest(method, path, token);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body, body.GetType());
            }

            try
            {
                return await SendAsync<T>(request, operation, cancellationToken);
            }
            catch (TwitchApiException exception) when (exception.Status == HttpStatusCode.Unauthorized && attempt == 1)
            {
                // The app token expired or was revoked early: fetch a new one, once.
                appToken.Invalidate(token);
            }
        }
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, string operation, CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var error = await TwitchApiException.FromResponseAsync(response, operation, cancellationToken);
            logger.LogWarning("Twitch {Operation} failed with {Status}: {TwitchMessage}", operation, (int)error.Status, error.TwitchMessage);
            throw error;
        }

        if (response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(object))
        {
            return default!;
        }

        return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
            ?? throw new TwitchApiException(response.StatusCode, operation, "empty response");
    }
}
