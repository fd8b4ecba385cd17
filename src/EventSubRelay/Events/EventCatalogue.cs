using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EventSubRelay.Events;

/// <summary>
/// The builders of the normalized events overlay authors know (Streamer.bot-style shapes), used by the rows of
/// <see cref="EventTypes"/>. A type or version that has no row is delivered as <c>Raw</c>.
/// </summary>
internal static partial class EventCatalogue
{
    internal const int Viewer = 1;

    /// <summary>The normalized type and data, or <see cref="Raw"/> with the original event for what is not mapped.</summary>
    internal static (string Type, JsonObject Data) Map(string subscriptionType, string version, JsonElement @event) =>
        Anonymized(@event, EventTypes.Find(subscriptionType, version) is { } type
            ? type.Map(@event)
            : RawEvent(subscriptionType, version, @event));

    /// <summary>
    /// Fields Twitch sends only to the app, never shown to viewers, removed from what reaches overlays
    /// (listed in <c>docs/events.md</c>): <c>user.update</c>'s <c>email</c> and <c>email_verified</c>.
    /// </summary>
    private static readonly string[] PrivateFields = ["email", "email_verified"];

    private const string AnonymousFlag = "is_anonymous";

    /// <summary>
    /// <c>is_anonymous</c> is authoritative: an anonymous event names nobody, whatever user fields its payload carries
    /// (Twitch's CLI sends an <c>ananonymousgifter</c> account there). Overlays tell by <c>isAnonymous: true</c> and show
    /// <c>displayName</c>, which is then <c>"Anonymous"</c>; <c>userId</c> and <c>userName</c> are null. A flag that names
    /// whose anonymity it is (<c>chatter_is_anonymous</c>, <c>gifter_is_anonymous</c>) counts the same.
    /// </summary>
    private static (string Type, JsonObject Data) Anonymized(JsonElement e, (string Type, JsonObject Data) mapped)
    {
        if (mapped.Type != OverlayTypes.Raw && e.ValueKind == JsonValueKind.Object
            && e.EnumerateObject().Any(p => p.Name.EndsWith(AnonymousFlag, StringComparison.Ordinal) && p.Value.ValueKind == JsonValueKind.True))
        {
            Anonymize(mapped.Data);
        }

        return mapped;
    }

    /// <summary>Blanks the user an event is from (in <c>data</c> and in its <c>message</c>); see <see cref="Anonymized"/>.</summary>
    internal static void Anonymize(JsonObject data)
    {
        foreach (var shape in new[] { data, data["message"] as JsonObject, data["event"] as JsonObject })
        {
            if (shape is null)
            {
                continue;
            }

            foreach (var id in (string[])["userId", "userName", "username", "user_id", "user_login", "user_name"])
            {
                if (shape.ContainsKey(id))
                {
                    shape[id] = null;
                }
            }

            if (shape.ContainsKey("displayName"))
            {
                shape["displayName"] = "Anonymous";
            }

            if (shape.ContainsKey("isAnonymous"))
            {
                shape["isAnonymous"] = true;
            }
        }
    }

    internal static (string Type, JsonObject Data) RawEvent(string subscriptionType, string version, JsonElement @event) => (OverlayTypes.Raw, new JsonObject
    {
        ["subscriptionType"] = subscriptionType,
        ["subscriptionVersion"] = version,
        ["event"] = @event.ValueKind == JsonValueKind.Undefined ? null : WithoutPrivateFields(JsonNode.Parse(@event.GetRawText())),
    });

    /// <summary>
    /// What of Twitch's event a <c>Raw</c> event may carry: no <see cref="PrivateFields"/>, and in every object that says
    /// it is anonymous (<c>is_anonymous</c>, or <c>{who}_is_anonymous</c> for <c>{who}_user_id/_login/_name</c>), no user.
    /// </summary>
    private static JsonNode? WithoutPrivateFields(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var name in PrivateFields)
                {
                    o.Remove(name);
                }

                foreach (var flag in o.Where(p => p.Key.EndsWith(AnonymousFlag, StringComparison.Ordinal) && p.Value is JsonValue v && v.GetValueKind() == JsonValueKind.True).Select(p => p.Key).ToList())
                {
                    var who = flag[..^AnonymousFlag.Length];
                    foreach (var field in (string[])["user_id", "user_login", "user_name"])
                    {
                        if (o.ContainsKey(who + field))
                        {
                            o[who + field] = null;
                        }
                    }
                }

                foreach (var (_, value) in o)
                {
                    WithoutPrivateFields(value);
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    WithoutPrivateFields(item);
                }

                break;
        }

        return node;
    }

    internal static (string, JsonObject) Cheer(JsonElement e)
    {
        var anonymous = e.TryGetProperty("is_anonymous", out var a) && a.GetBoolean();
        var text = Text(e, "message") ?? "";
        return (OverlayTypes.Cheer, new JsonObject
        {
            ["message"] = new JsonObject
            {
                ["msgId"] = null,
                ["userId"] = anonymous ? null : Id(e, "user_id"),
                ["username"] = anonymous ? null : Text(e, "user_login"),
                ["role"] = Viewer,
                ["subscriber"] = false,
                ["displayName"] = anonymous ? "Anonymous" : Text(e, "user_name"),
                ["channel"] = Text(e, "broadcaster_user_login"),
                ["message"] = text,
                ["isHighlighted"] = false,
                ["isMe"] = false,
                ["isCustomReward"] = false,
                ["isAnonymous"] = anonymous,
                ["isReply"] = false,
                ["bits"] = Int(e, "bits"),
                ["hasBits"] = true,
                ["emotes"] = new JsonArray(),
                ["cheerEmotes"] = CheerEmotes(text),
            },
        });
    }

    /// <summary>Cheermote tokens in a cheer message ("Cheer100", "Kappa50"): a word of letters ending in the bits it gives.</summary>
    private static JsonArray CheerEmotes(string text)
    {
        var emotes = new JsonArray();
        foreach (Match match in CheermoteToken().Matches(text))
        {
            emotes.Add(new JsonObject
            {
                ["bits"] = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
                ["color"] = null,
                ["type"] = "CheerEmote",
                ["name"] = match.Groups[1].Value,
                ["startIndex"] = match.Index,
                ["endIndex"] = match.Index + match.Length - 1,
                ["imageUrl"] = null,
            });
        }

        return emotes;
    }

    [GeneratedRegex(@"(?<![\w])([A-Za-z]+)(\d+)(?![\w])")]
    private static partial Regex CheermoteToken();

    internal static (string, JsonObject) ChatMessage(JsonElement e)
    {
        var badges = e.TryGetProperty("badges", out var b) && b.ValueKind == JsonValueKind.Array
            ? b.EnumerateArray().Select(badge => Text(badge, "set_id")).ToHashSet(StringComparer.Ordinal)
            : [];
        var role = badges.Contains("broadcaster") ? 4 : badges.Contains("moderator") ? 3 : badges.Contains("vip") ? 2 : 1;
        var messageType = Text(e, "message_type") ?? "text";
        var text = Text(e.GetProperty("message"), "text") ?? "";
        var bits = e.TryGetProperty("cheer", out var cheer) && cheer.ValueKind == JsonValueKind.Object ? Int(cheer, "bits") ?? 0 : 0;

        // Emote positions are character indexes into the text, found by walking the fragments.
        var emotes = new JsonArray();
        var cheerEmotes = new JsonArray();
        var index = 0;
        foreach (var fragment in e.GetProperty("message").GetProperty("fragments").EnumerateArray())
        {
            var fragmentText = Text(fragment, "text") ?? "";
            if (fragment.TryGetProperty("emote", out var emote) && emote.ValueKind == JsonValueKind.Object)
            {
                var id = Text(emote, "id");
                emotes.Add(new JsonObject
                {
                    ["id"] = id,
                    ["type"] = "Twitch",
                    ["name"] = fragmentText,
                    ["startIndex"] = index,
                    ["endIndex"] = index + fragmentText.Length - 1,
                    ["imageUrl"] = $"https://static-cdn.jtvnw.net/emoticons/v2/{id}/default/dark/2.0",
                });
            }
            else if (fragment.TryGetProperty("cheermote", out var cheermote) && cheermote.ValueKind == JsonValueKind.Object)
            {
                cheerEmotes.Add(new JsonObject
                {
                    ["bits"] = Int(cheermote, "bits"),
                    ["color"] = null,
                    ["type"] = "CheerEmote",
                    ["name"] = Text(cheermote, "prefix"),
                    ["startIndex"] = index,
                    ["endIndex"] = index + fragmentText.Length - 1,
                    ["imageUrl"] = null,
                });
            }

            index += fragmentText.Length;
        }

        return (OverlayTypes.ChatMessage, new JsonObject
        {
            ["message"] = new JsonObject
            {
                ["msgId"] = Text(e, "message_id"),
                ["userId"] = Id(e, "chatter_user_id"),
                ["username"] = Text(e, "chatter_user_login"),
                ["role"] = role,
                ["subscriber"] = badges.Contains("subscriber") || badges.Contains("founder"),
                ["displayName"] = Text(e, "chatter_user_name"),
                ["channel"] = Text(e, "broadcaster_user_login"),
                ["message"] = text,
                ["isHighlighted"] = messageType == "channel_points_highlighted",
                ["isMe"] = false,
                ["isCustomReward"] = e.TryGetProperty("channel_points_custom_reward_id", out var reward) && reward.ValueKind == JsonValueKind.String,
                ["isAnonymous"] = false,
                ["isReply"] = e.TryGetProperty("reply", out var reply) && reply.ValueKind == JsonValueKind.Object,
                ["bits"] = bits,
                ["hasBits"] = bits > 0,
                ["emotes"] = emotes,
                ["cheerEmotes"] = cheerEmotes,
            },
        });
    }

    /// <summary>
    /// <c>channel.moderate</c> v2 reports every moderator action with read-only scopes; unlike <c>channel.unban</c>,
    /// it tells a timeout being lifted (<c>untimeout</c>) apart from a ban being lifted (<c>unban</c>).
    /// </summary>
    internal static (string, JsonObject) Moderate(JsonElement e)
    {
        var action = Text(e, "action");
        var moderator = Text(e, "moderator_user_name");
        JsonObject Target() => User(e.GetProperty(action!), "user").With("moderator", moderator);
        return action switch
        {
            "ban" => (OverlayTypes.UserBanned, Target().With("reason", Text(e.GetProperty("ban"), "reason"))),
            "timeout" => (OverlayTypes.UserTimedOut, Target().With("reason", Text(e.GetProperty("timeout"), "reason")).With("duration", null).With("expiresAt", Text(e.GetProperty("timeout"), "expires_at"))),
            "unban" => (OverlayTypes.UserUnbanned, Target()),
            "untimeout" => (OverlayTypes.TimeoutRemoved, Target()),
            "mod" => (OverlayTypes.ModeratorAdded, Target()),
            "unmod" => (OverlayTypes.ModeratorRemoved, Target()),
            "vip" => (OverlayTypes.VipAdded, Target()),
            "unvip" => (OverlayTypes.VipRemoved, Target()),
            "delete" => (OverlayTypes.MessageDeleted, Target().With("msgId", Text(e.GetProperty("delete"), "message_id"))),
            "clear" => (OverlayTypes.ChatCleared, new JsonObject { ["moderator"] = moderator }),
            _ => RawEvent("channel.moderate", "2", e),
        };
    }

    /// <summary>The category as <c>{ id, name }</c>; null when the channel has none (Twitch sends empty strings then).</summary>
    internal static JsonObject? Game(string? id, string? name) =>
        string.IsNullOrEmpty(id) && string.IsNullOrEmpty(name) ? null : new JsonObject { ["id"] = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null, ["name"] = name };

    /// <summary>Hype train progress: <c>goal</c> and <c>progress</c> are the current level's; the train's total goal is what is still needed plus what is in.</summary>
    internal static JsonObject HypeTrain(JsonElement e, bool update)
    {
        var (goal, progress, total) = (Int(e, "goal") ?? 0, Int(e, "progress") ?? 0, Int(e, "total") ?? 0);
        var train = new JsonObject();
        if (update)
        {
            train["userId"] = e.TryGetProperty("last_contribution", out var last) && last.ValueKind == JsonValueKind.Object ? Id(last, "user_id") : null;
        }

        train["level"] = Int(e, "level") ?? 1;
        if (update)
        {
            train["contributors"] = Contributors(e).Count;
        }

        train["levelGoal"] = goal;
        train["levelTotal"] = progress;
        train["totalGoal"] = total - progress + goal;
        train["total"] = total;
        train["percent"] = goal == 0 ? 0 : (double)progress / goal;
        return train;
    }

    internal static (string, JsonObject) HypeTrainEnd(JsonElement e)
    {
        var contributors = Contributors(e);
        return (OverlayTypes.HypeTrainEnd, new JsonObject
        {
            // The notification does not name a conductor; the top contributor is the closest it has.
            ["conductor"] = new JsonObject { ["id"] = contributors.FirstOrDefault()?.DeepClone() },
            ["level"] = Int(e, "level") ?? 1,
            ["contributorCount"] = contributors.Count,
            ["contributors"] = new JsonArray([.. contributors.Select(id => (JsonNode)new JsonObject { ["id"] = id?.DeepClone() })]),
            ["levelGoal"] = Int(e, "goal"),
            ["levelTotal"] = Int(e, "progress"),
            ["totalGoal"] = null,
            ["total"] = Int(e, "total") ?? 0,
            ["percent"] = null,
        });
    }

    private static List<JsonNode?> Contributors(JsonElement e) =>
        e.TryGetProperty("top_contributions", out var top) && top.ValueKind == JsonValueKind.Array
            ? [.. top.EnumerateArray().Select(c => Id(c, "user_id")).Where(id => id is not null).DistinctBy(id => id!.ToJsonString())]
            : [];

    /// <summary>Poll events: Twitch's choices with their votes split by how they were cast.</summary>
    internal static JsonObject Poll(JsonElement e)
    {
        var bitsCost = Voting(e, "bits_voting");
        var pointsCost = Voting(e, "channel_points_voting");
        JsonObject Votes(int total, int bits, int points) => new() { ["total"] = total, ["base"] = total - bits - points, ["bits"] = bits, ["channel_points"] = points };
        JsonObject Tokens(int bits, int points) => new() { ["bits"] = bits * (bitsCost ?? 0), ["channel_points"] = points * (pointsCost ?? 0) };

        var choices = new JsonArray();
        int total = 0, bitsTotal = 0, pointsTotal = 0;
        JsonObject? winner = null;
        foreach (var choice in e.GetProperty("choices").EnumerateArray())
        {
            var (votes, bits, points) = (Int(choice, "votes") ?? 0, Int(choice, "bits_votes") ?? 0, Int(choice, "channel_points_votes") ?? 0);
            (total, bitsTotal, pointsTotal) = (total + votes, bitsTotal + bits, pointsTotal + points);
            var mapped = new JsonObject
            {
                ["choice_id"] = Text(choice, "id"),
                ["title"] = Text(choice, "title"),
                ["votes"] = Votes(votes, bits, points),
                ["tokens"] = Tokens(bits, points),
                // Twitch reports votes, not voters; without bits or points voting each voter casts one vote.
                ["total_voters"] = votes - bits - points,
            };
            choices.Add(mapped);
            if (winner is null || votes > winner["votes"]!["total"]!.GetValue<int>())
            {
                winner = mapped;
            }
        }

        var poll = new JsonObject
        {
            ["dateTime"] = Text(e, "started_at"),
            ["channelId"] = Id(e, "broadcaster_user_id"),
            ["type"] = 1,
            ["id"] = Text(e, "id"),
            ["title"] = Text(e, "title"),
            ["startedAt"] = Text(e, "started_at"),
            ["duration"] = Duration(Text(e, "started_at"), Text(e, "ends_at") ?? Text(e, "ended_at")),
            ["settings"] = new JsonObject
            {
                ["multi_choice"] = new JsonObject { ["is_enabled"] = false },
                ["subscriber_only"] = new JsonObject { ["is_enabled"] = false },
                ["subscriber_multiplier"] = new JsonObject { ["is_enabled"] = false },
                ["bits_votes"] = new JsonObject { ["cost"] = bitsCost ?? 0, ["is_enabled"] = bitsCost is not null },
                ["channel_points_votes"] = new JsonObject { ["cost"] = pointsCost ?? 0, ["is_enabled"] = pointsCost is not null },
            },
            ["choices"] = choices,
            ["votes"] = Votes(total, bitsTotal, pointsTotal),
            ["tokens"] = Tokens(bitsTotal, pointsTotal),
            ["totalVotes"] = total,
            // Known at the start (the whole duration) and at the end (none); in between it depends on the clock.
            ["remainingDurationMilliseconds"] = Text(e, "ended_at") is not null ? 0 : null,
        };
        if (Text(e, "ended_at") is { } endedAt)
        {
            poll["endedAt"] = endedAt;
            poll["winningChoice"] = winner?.DeepClone();
        }

        return poll;
    }

    /// <summary>The per-vote cost of a voting method, or null when it is not enabled.</summary>
    private static int? Voting(JsonElement e, string name) =>
        e.TryGetProperty(name, out var voting) && voting.ValueKind == JsonValueKind.Object && voting.TryGetProperty("is_enabled", out var enabled) && enabled.GetBoolean()
            ? Int(voting, "amount_per_vote") ?? 0
            : null;

    /// <summary>Prediction events; outcome colours upper-case (BLUE, PINK) as overlays expect.</summary>
    internal static JsonObject Prediction(JsonElement e)
    {
        var outcomes = new JsonArray();
        foreach (var outcome in e.GetProperty("outcomes").EnumerateArray())
        {
            var predictors = new JsonArray();
            if (outcome.TryGetProperty("top_predictors", out var top) && top.ValueKind == JsonValueKind.Array)
            {
                foreach (var predictor in top.EnumerateArray())
                {
                    predictors.Add(new JsonObject
                    {
                        ["event_id"] = Text(e, "id"),
                        ["outcome_id"] = Text(outcome, "id"),
                        ["channel_id"] = Id(e, "broadcaster_user_id"),
                        ["points"] = Int(predictor, "channel_points_used"),
                        // Not in the notification.
                        ["predicted_at"] = null,
                        ["updated_at"] = null,
                        ["user_id"] = Id(predictor, "user_id"),
                        ["user_display_name"] = Text(predictor, "user_name"),
                    });
                }
            }

            outcomes.Add(new JsonObject
            {
                ["id"] = Text(outcome, "id"),
                ["color"] = Text(outcome, "color")?.ToUpperInvariant(),
                ["title"] = Text(outcome, "title"),
                ["total_points"] = Int(outcome, "channel_points") ?? 0,
                ["total_users"] = Int(outcome, "users") ?? 0,
                ["top_predictors"] = predictors,
            });
        }

        var prediction = new JsonObject
        {
            ["outcomes"] = outcomes,
            ["dateTime"] = Text(e, "ended_at") ?? Text(e, "locked_at") ?? Text(e, "started_at"),
            ["channelId"] = Id(e, "broadcaster_user_id"),
            ["type"] = 1,
            ["status"] = Text(e, "status") switch { "resolved" => 3, "canceled" => 4, _ => Text(e, "locked_at") is null ? 1 : 2 },
            ["id"] = Text(e, "id"),
            ["title"] = Text(e, "title"),
            ["createdAt"] = Text(e, "started_at"),
            ["predictionWindow"] = Duration(Text(e, "started_at"), Text(e, "locks_at")),
        };
        if (Text(e, "winning_outcome_id") is { } winning)
        {
            prediction["winningOutcomeId"] = winning;
            prediction["winningOutcome"] = outcomes.FirstOrDefault(o => o!["id"]!.GetValue<string>() == winning)?.DeepClone();
        }

        return prediction;
    }

    internal static JsonObject Charity(JsonElement e) => new()
    {
        ["id"] = Text(e, "id"),
        ["charity"] = Text(e, "charity_name"),
        ["description"] = Text(e, "charity_description"),
        ["currentAmount"] = Amount(e, "current_amount"),
        ["targetAmount"] = Amount(e, "target_amount"),
    };

    /// <summary>Twitch amounts are <c>{ value, decimal_places, currency }</c>; overlays get the number and the currency.</summary>
    internal static JsonObject? Amount(JsonElement e, string name) =>
        e.TryGetProperty(name, out var amount) && amount.ValueKind == JsonValueKind.Object
            ? new JsonObject
            {
                ["value"] = (Int(amount, "value") ?? 0) / Math.Pow(10, Int(amount, "decimal_places") ?? 0),
                ["currency"] = Text(amount, "currency"),
            }
            : null;

    /// <summary>Creator goals (the reference's community goals have no EventSub source).</summary>
    internal static JsonObject Goal(JsonElement e) => new()
    {
        ["id"] = Text(e, "id"),
        ["type"] = Text(e, "type"),
        ["description"] = Text(e, "description"),
        ["currentAmount"] = Int(e, "current_amount"),
        ["targetAmount"] = Int(e, "target_amount"),
        ["startedAt"] = Text(e, "started_at"),
        ["endedAt"] = Text(e, "ended_at"),
        ["isAchieved"] = e.TryGetProperty("is_achieved", out var achieved) && achieved.ValueKind == JsonValueKind.True,
    };

    internal static JsonObject Reward(JsonElement e) => new()
    {
        ["channelId"] = Id(e, "broadcaster_user_id"),
        ["cost"] = Int(e, "cost"),
        ["rewardId"] = Text(e, "id"),
        ["title"] = Text(e, "title"),
        ["prompt"] = Text(e, "prompt"),
        ["inputRequired"] = e.TryGetProperty("is_user_input_required", out var input) && input.ValueKind == JsonValueKind.True,
        ["backgroundColor"] = Text(e, "background_color"),
        ["enabled"] = e.TryGetProperty("is_enabled", out var enabled) && enabled.ValueKind == JsonValueKind.True,
        ["paused"] = e.TryGetProperty("is_paused", out var paused) && paused.ValueKind == JsonValueKind.True,
        ["subOnly"] = false,
    };

    internal static JsonObject Redemption(JsonElement e)
    {
        var reward = e.GetProperty("reward");
        return new JsonObject
        {
            ["id"] = Text(e, "id"),
            ["dateTime"] = Text(e, "redeemed_at"),
            ["userId"] = Id(e, "user_id"),
            ["userName"] = Text(e, "user_login"),
            ["displayName"] = Text(e, "user_name"),
            ["channelId"] = Id(e, "broadcaster_user_id"),
            ["cost"] = Int(reward, "cost"),
            ["rewardId"] = Text(reward, "id"),
            ["title"] = Text(reward, "title"),
            ["prompt"] = Text(reward, "prompt"),
            ["userInput"] = Text(e, "user_input"),
            ["status"] = Text(e, "status"),
            // Not in the notification: filled from the reward itself (Helix) when enrichment answers in time, else null.
            ["inputRequired"] = null,
            ["backgroundColor"] = null,
            ["enabled"] = null,
            ["paused"] = null,
            ["subOnly"] = null,
        };
    }

    /// <summary>The user fields of events about one user (moderation, VIPs, shoutouts): <c>{prefix}_id/_login/_name</c>.</summary>
    internal static JsonObject User(JsonElement e, string prefix) => new()
    {
        ["userId"] = Id(e, $"{prefix}_id"),
        ["userName"] = Text(e, $"{prefix}_login"),
        ["displayName"] = Text(e, $"{prefix}_name"),
    };

    internal static JsonObject With(this JsonObject o, string name, JsonNode? value)
    {
        o[name] = value;
        return o;
    }

    internal static int? Duration(string? from, string? to) =>
        DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, out var start) && DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, out var end)
            ? (int)Math.Round((end - start).TotalSeconds)
            : null;

    /// <summary>Twitch tiers 1000/2000/3000 as 1/2/3.</summary>
    internal static int Tier(JsonElement e) => Text(e, "tier") switch
    {
        "2000" => 2,
        "3000" => 3,
        _ => 1,
    };

    /// <summary>A string field, or null when it is missing or not a string (or the element is not an object).</summary>
    internal static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;

    /// <summary>User and channel ids are numbers in the normalized shapes.</summary>
    internal static JsonNode? Id(JsonElement e, string name) =>
        Text(e, name) is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? JsonValue.Create(id) : null;
}
