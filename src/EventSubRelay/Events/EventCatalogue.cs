using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EventSubRelay.Events;

/// <summary>
/// The mappings from EventSub notifications (type and version) to the normalized events overlay authors
/// know (Streamer.bot-style shapes). A type or version not listed here is delivered as <c>Raw</c>.
/// </summary>
internal static partial class EventCatalogue
{
    public const string Raw = "Raw";

    private delegate (string Type, JsonObject Data) Mapping(JsonElement e);

    private static readonly Dictionary<(string Type, string Version), Mapping> Mappings = new()
    {
        [("channel.follow", "2")] = e => ("Follow", new JsonObject
        {
            ["userId"] = Id(e, "user_id"),
            ["userName"] = Text(e, "user_login"),
            ["displayName"] = Text(e, "user_name"),
            ["isTest"] = false,
        }),
        [("channel.cheer", "1")] = Cheer,
        [("channel.raid", "1")] = e => ("Raid", new JsonObject
        {
            ["viewerCount"] = e.GetProperty("viewers").GetInt32(),
            ["profileImage"] = null,
            ["userId"] = Id(e, "from_broadcaster_user_id"),
            ["userName"] = Text(e, "from_broadcaster_user_login"),
            ["displayName"] = Text(e, "from_broadcaster_user_name"),
            ["role"] = Viewer,
        }),
        [("channel.subscribe", "1")] = e => e.GetProperty("is_gift").GetBoolean()
            ? ("GiftSub", new JsonObject
            {
                ["isAnonymous"] = false,
                ["totalSubsGifted"] = 1,
                ["cumulativeMonths"] = 1,
                ["monthsGifted"] = 1,
                ["fromSubBomb"] = false,
                ["subBombCount"] = 1,
                ["recipientUserId"] = Id(e, "user_id"),
                ["recipientUsername"] = Text(e, "user_login"),
                ["recipientDisplayName"] = Text(e, "user_name"),
                ["subTier"] = Tier(e),
                ["userId"] = null,
                ["userName"] = null,
                ["displayName"] = null,
                ["role"] = Viewer,
            })
            : ("Sub", new JsonObject
            {
                ["subTier"] = Tier(e),
                ["color"] = null,
                ["emotes"] = new JsonArray(),
                ["message"] = "",
                ["userId"] = Id(e, "user_id"),
                ["userName"] = Text(e, "user_login"),
                ["displayName"] = Text(e, "user_name"),
                ["role"] = Viewer,
            }),
        [("channel.subscription.message", "1")] = e => ("ReSub", new JsonObject
        {
            ["cumulativeMonths"] = Int(e, "cumulative_months"),
            ["shareStreak"] = e.TryGetProperty("streak_months", out var streak) && streak.ValueKind == JsonValueKind.Number,
            ["streakMonths"] = Int(e, "streak_months"),
            ["subTier"] = Tier(e),
            ["color"] = null,
            ["emotes"] = new JsonArray(),
            ["message"] = e.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object ? Text(message, "text") : "",
            ["userId"] = Id(e, "user_id"),
            ["userName"] = Text(e, "user_login"),
            ["displayName"] = Text(e, "user_name"),
            ["role"] = Viewer,
        }),
        [("channel.subscription.gift", "1")] = e =>
        {
            var total = Int(e, "total") ?? 1;
            var anonymous = e.TryGetProperty("is_anonymous", out var a) && a.GetBoolean();
            return total > 1
                ? ("GiftBomb", new JsonObject
                {
                    ["isAnonymous"] = anonymous,
                    ["gifts"] = total,
                    ["totalGifts"] = Int(e, "cumulative_total") ?? 0,
                    ["subTier"] = Tier(e),
                    ["userId"] = Id(e, "user_id"),
                    ["userName"] = Text(e, "user_login"),
                    ["displayName"] = Text(e, "user_name"),
                    ["role"] = Viewer,
                })
                : ("GiftSub", new JsonObject
                {
                    ["isAnonymous"] = anonymous,
                    ["totalSubsGifted"] = Int(e, "cumulative_total") ?? 1,
                    ["cumulativeMonths"] = 1,
                    ["monthsGifted"] = 1,
                    ["fromSubBomb"] = false,
                    ["subBombCount"] = 1,
                    ["recipientUserId"] = null,
                    ["recipientUsername"] = null,
                    ["recipientDisplayName"] = null,
                    ["subTier"] = Tier(e),
                    ["userId"] = Id(e, "user_id"),
                    ["userName"] = Text(e, "user_login"),
                    ["displayName"] = Text(e, "user_name"),
                    ["role"] = Viewer,
                });
        },
        [("channel.ad_break.begin", "1")] = e => ("AdRun", new JsonObject
        {
            ["length"] = Int(e, "duration_seconds"),
            ["scheduled"] = e.GetProperty("is_automatic").GetBoolean(),
        }),
        [("user.whisper.message", "1")] = e => ("Whisper", new JsonObject
        {
            ["message"] = new JsonObject
            {
                ["msgId"] = Text(e, "whisper_id"),
                ["userId"] = Id(e, "from_user_id"),
                ["username"] = Text(e, "from_user_login"),
                ["displayName"] = Text(e, "from_user_name"),
                ["message"] = Text(e.GetProperty("whisper"), "text"),
                ["emotes"] = new JsonArray(),
            },
        }),
        [("channel.chat.message", "1")] = ChatMessage,
        [("channel.channel_points_custom_reward_redemption.add", "1")] = e => ("RewardRedemption", Redemption(e)),
        [("channel.channel_points_custom_reward_redemption.update", "1")] = e => ("RewardRedemptionUpdated", Redemption(e)),
        [("stream.online", "1")] = e => ("StreamOnline", new JsonObject { ["id"] = Text(e, "id"), ["type"] = Text(e, "type"), ["startedAt"] = Text(e, "started_at") }),
        [("stream.offline", "1")] = _ => ("StreamOffline", new JsonObject()),
        [("channel.subscription.end", "1")] = e => ("SubscriptionEnded", User(e, "user").With("subTier", Tier(e)).With("isGift", e.GetProperty("is_gift").GetBoolean())),
        [("channel.moderator.add", "1")] = e => ("ModeratorAdded", User(e, "user")),
        [("channel.moderator.remove", "1")] = e => ("ModeratorRemoved", User(e, "user")),
        [("channel.vip.add", "1")] = e => ("VipAdded", User(e, "user")),
        [("channel.vip.remove", "1")] = e => ("VipRemoved", User(e, "user")),
        [("channel.ban", "1")] = e => e.GetProperty("is_permanent").GetBoolean()
            ? ("UserBanned", User(e, "user").With("reason", Text(e, "reason")).With("moderator", Text(e, "moderator_user_name")))
            : ("UserTimedOut", User(e, "user").With("reason", Text(e, "reason")).With("moderator", Text(e, "moderator_user_name"))
                .With("duration", Duration(Text(e, "banned_at"), Text(e, "ends_at"))).With("expiresAt", Text(e, "ends_at"))),
        [("channel.moderate", "2")] = Moderate,
        [("channel.update", "2")] = e => ("StreamUpdate", new JsonObject
        {
            ["channelId"] = Id(e, "broadcaster_user_id"),
            ["channel"] = Text(e, "broadcaster_user_login"),
            ["status"] = Text(e, "title"),
            // Filled from the channel's previous update (see CatalogueMapper).
            ["oldStatus"] = null,
            ["oldGame"] = null,
            ["game"] = Game(Text(e, "category_id"), Text(e, "category_name")),
        }),
        [("channel.hype_train.begin", "1")] = e => ("HypeTrainStart", HypeTrain(e, update: false)),
        [("channel.hype_train.begin", "2")] = e => ("HypeTrainStart", HypeTrain(e, update: false)),
        [("channel.hype_train.progress", "1")] = e => ("HypeTrainUpdate", HypeTrain(e, update: true)),
        [("channel.hype_train.progress", "2")] = e => ("HypeTrainUpdate", HypeTrain(e, update: true)),
        [("channel.hype_train.end", "1")] = HypeTrainEnd,
        [("channel.hype_train.end", "2")] = HypeTrainEnd,
        [("channel.charity_campaign.start", "1")] = e => ("CharityStarted", Charity(e)),
        [("channel.charity_campaign.progress", "1")] = e => ("CharityProgress", Charity(e)),
        [("channel.charity_campaign.stop", "1")] = e => ("CharityStopped", Charity(e)),
        [("channel.charity_campaign.donate", "1")] = e => ("CharityDonation", User(e, "user")
            .With("campaignId", Text(e, "campaign_id")).With("charity", Text(e, "charity_name")).With("amount", Amount(e, "amount"))),
        [("channel.shield_mode.begin", "1")] = e => ("ShieldModeStarted", new JsonObject { ["moderator"] = Text(e, "moderator_user_name"), ["startedAt"] = Text(e, "started_at") }),
        [("channel.shield_mode.end", "1")] = e => ("ShieldModeEnded", new JsonObject { ["moderator"] = Text(e, "moderator_user_name"), ["endedAt"] = Text(e, "ended_at") }),
        [("channel.poll.begin", "1")] = e => ("PollCreated", Poll(e).With("remainingDurationMilliseconds", (Duration(Text(e, "started_at"), Text(e, "ends_at")) ?? 0) * 1000)),
        [("channel.poll.progress", "1")] = e => ("PollUpdated", Poll(e)),
        [("channel.poll.end", "1")] = e => (Text(e, "status") switch { "terminated" => "PollTerminated", "archived" => "PollArchived", _ => "PollCompleted" }, Poll(e)),
        [("channel.prediction.begin", "1")] = e => ("PredictionCreated", Prediction(e)),
        [("channel.prediction.progress", "1")] = e => ("PredictionUpdated", Prediction(e)),
        [("channel.prediction.lock", "1")] = e => ("PredictionLocked", Prediction(e)),
        [("channel.prediction.end", "1")] = e => (Text(e, "status") == "canceled" ? "PredictionCanceled" : "PredictionCompleted", Prediction(e)),
        [("channel.goal.begin", "1")] = e => ("GoalBegin", Goal(e)),
        [("channel.goal.progress", "1")] = e => ("GoalProgress", Goal(e)),
        [("channel.goal.end", "1")] = e => ("GoalEnd", Goal(e)),
        [("channel.channel_points_custom_reward.add", "1")] = e => ("RewardCreated", Reward(e)),
        [("channel.channel_points_custom_reward.update", "1")] = e => ("RewardUpdated", Reward(e)),
        [("channel.channel_points_custom_reward.remove", "1")] = e => ("RewardDeleted", Reward(e)),
        [("channel.unban", "1")] = e => ("UserUnbanned", User(e, "user").With("moderator", Text(e, "moderator_user_name"))),
        [("channel.chat.clear", "1")] = _ => ("ChatCleared", new JsonObject()),
        [("channel.chat.message_delete", "1")] = e => ("MessageDeleted", User(e, "target_user").With("msgId", Text(e, "message_id"))),
        [("channel.shoutout.create", "1")] = e => ("ShoutoutCreated", User(e, "to_broadcaster_user").With("viewerCount", Int(e, "viewer_count"))),
        [("channel.shoutout.receive", "1")] = e => ("ShoutoutReceived", User(e, "from_broadcaster_user").With("viewerCount", Int(e, "viewer_count"))),
    };

    private const int Viewer = 1;

    /// <summary>Every (type, version) mapped to a named event.</summary>
    public static IEnumerable<(string Type, string Version)> Known => Mappings.Keys;

    /// <summary>The normalized type and data, or <see cref="Raw"/> with the original event for what is not mapped.</summary>
    public static (string Type, JsonObject Data) Map(string subscriptionType, string version, JsonElement @event) =>
        Mappings.TryGetValue((subscriptionType, version), out var mapping)
            ? mapping(@event)
            : RawEvent(subscriptionType, version, @event);

    public static (string Type, JsonObject Data) RawEvent(string subscriptionType, string version, JsonElement @event) => (Raw, new JsonObject
    {
        ["subscriptionType"] = subscriptionType,
        ["subscriptionVersion"] = version,
        ["event"] = @event.ValueKind == JsonValueKind.Undefined ? null : JsonNode.Parse(@event.GetRawText()),
    });

    private static (string, JsonObject) Cheer(JsonElement e)
    {
        var anonymous = e.TryGetProperty("is_anonymous", out var a) && a.GetBoolean();
        var text = Text(e, "message") ?? "";
        return ("Cheer", new JsonObject
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

    private static (string, JsonObject) ChatMessage(JsonElement e)
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

        return ("ChatMessage", new JsonObject
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
    private static (string, JsonObject) Moderate(JsonElement e)
    {
        var action = Text(e, "action");
        var moderator = Text(e, "moderator_user_name");
        JsonObject Target() => User(e.GetProperty(action!), "user").With("moderator", moderator);
        return action switch
        {
            "ban" => ("UserBanned", Target().With("reason", Text(e.GetProperty("ban"), "reason"))),
            "timeout" => ("UserTimedOut", Target().With("reason", Text(e.GetProperty("timeout"), "reason")).With("duration", null).With("expiresAt", Text(e.GetProperty("timeout"), "expires_at"))),
            "unban" => ("UserUnbanned", Target()),
            "untimeout" => ("TimeoutRemoved", Target()),
            "mod" => ("ModeratorAdded", Target()),
            "unmod" => ("ModeratorRemoved", Target()),
            "vip" => ("VipAdded", Target()),
            "unvip" => ("VipRemoved", Target()),
            "delete" => ("MessageDeleted", Target().With("msgId", Text(e.GetProperty("delete"), "message_id"))),
            "clear" => ("ChatCleared", new JsonObject { ["moderator"] = moderator }),
            _ => RawEvent("channel.moderate", "2", e),
        };
    }

    /// <summary>The category as <c>{ id, name }</c>; null when the channel has none (Twitch sends empty strings then).</summary>
    public static JsonObject? Game(string? id, string? name) =>
        string.IsNullOrEmpty(id) && string.IsNullOrEmpty(name) ? null : new JsonObject { ["id"] = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null, ["name"] = name };

    /// <summary>Hype train progress: <c>goal</c> and <c>progress</c> are the current level's; the train's total goal is what is still needed plus what is in.</summary>
    public static JsonObject HypeTrain(JsonElement e, bool update)
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

    private static (string, JsonObject) HypeTrainEnd(JsonElement e)
    {
        var contributors = Contributors(e);
        return ("HypeTrainEnd", new JsonObject
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
    private static JsonObject Poll(JsonElement e)
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
    private static JsonObject Prediction(JsonElement e)
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

    private static JsonObject Charity(JsonElement e) => new()
    {
        ["id"] = Text(e, "id"),
        ["charity"] = Text(e, "charity_name"),
        ["description"] = Text(e, "charity_description"),
        ["currentAmount"] = Amount(e, "current_amount"),
        ["targetAmount"] = Amount(e, "target_amount"),
    };

    /// <summary>Twitch amounts are <c>{ value, decimal_places, currency }</c>; overlays get the number and the currency.</summary>
    private static JsonObject? Amount(JsonElement e, string name) =>
        e.TryGetProperty(name, out var amount) && amount.ValueKind == JsonValueKind.Object
            ? new JsonObject
            {
                ["value"] = (Int(amount, "value") ?? 0) / Math.Pow(10, Int(amount, "decimal_places") ?? 0),
                ["currency"] = Text(amount, "currency"),
            }
            : null;

    /// <summary>Creator goals (the reference's community goals have no EventSub source).</summary>
    private static JsonObject Goal(JsonElement e) => new()
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

    private static JsonObject Reward(JsonElement e) => new()
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

    private static JsonObject Redemption(JsonElement e)
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
            // Known only from the reward itself (Helix); null until that enrichment exists.
            ["inputRequired"] = null,
            ["backgroundColor"] = null,
            ["enabled"] = null,
            ["paused"] = null,
            ["subOnly"] = null,
        };
    }

    /// <summary>The user fields of events about one user (moderation, VIPs, shoutouts): <c>{prefix}_id/_login/_name</c>.</summary>
    private static JsonObject User(JsonElement e, string prefix) => new()
    {
        ["userId"] = Id(e, $"{prefix}_id"),
        ["userName"] = Text(e, $"{prefix}_login"),
        ["displayName"] = Text(e, $"{prefix}_name"),
    };

    private static JsonObject With(this JsonObject o, string name, JsonNode? value)
    {
        o[name] = value;
        return o;
    }

    private static int? Duration(string? from, string? to) =>
        DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, out var start) && DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, out var end)
            ? (int)Math.Round((end - start).TotalSeconds)
            : null;

    /// <summary>Twitch tiers 1000/2000/3000 as 1/2/3.</summary>
    private static int Tier(JsonElement e) => Text(e, "tier") switch
    {
        "2000" => 2,
        "3000" => 3,
        _ => 1,
    };

    /// <summary>A string field, or null when it is missing or not a string (or the element is not an object).</summary>
    public static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;

    /// <summary>User and channel ids are numbers in the normalized shapes.</summary>
    private static JsonNode? Id(JsonElement e, string name) =>
        Text(e, name) is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? JsonValue.Create(id) : null;
}
