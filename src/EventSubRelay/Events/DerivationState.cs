using EventSubRelay.Data;
using Npgsql;

namespace EventSubRelay.Events;

/// <summary>
/// The state some events are derived from, kept in PostgreSQL so that it survives restarts and is shared by
/// every instance. Each method is one statement, so concurrent instances never read-then-write, and each
/// remembers which notification changed what, so deriving a notification again (a batch retried after a
/// database error) produces the same events instead of losing or repeating them. It is part of the delivery
/// path, so it uses the delivery pool: its commits precede the overlay events derived from them in the log,
/// so a crash that loses one loses the events too, and the outbox derives both again.
/// </summary>
internal sealed class DerivationState([FromKeyedServices(DatabaseBudget.DeliveryKey)] NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Stores the channel's new title and category and returns the previous ones (null the first time). The same
    /// notification again (a retried batch) gets the same answer, not its own values.
    /// </summary>
    public async Task<(string? Title, string? CategoryId, string? CategoryName)> ReplaceChannelInfoAsync(
        string messageId, string broadcasterUserId, string? title, string? categoryId, string? categoryName, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO channel_state (broadcaster_user_id, title, category_id, category_name, update_message_id) VALUES (@broadcaster, @title, @category_id, @category_name, @message)
            ON CONFLICT (broadcaster_user_id) DO UPDATE SET
                previous_title = CASE WHEN channel_state.update_message_id = @message THEN channel_state.previous_title ELSE channel_state.title END,
                previous_category_id = CASE WHEN channel_state.update_message_id = @message THEN channel_state.previous_category_id ELSE channel_state.category_id END,
                previous_category_name = CASE WHEN channel_state.update_message_id = @message THEN channel_state.previous_category_name ELSE channel_state.category_name END,
                title = excluded.title, category_id = excluded.category_id, category_name = excluded.category_name, update_message_id = excluded.update_message_id
            RETURNING previous_title, previous_category_id, previous_category_name
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("message", messageId));
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter("title", (object?)title ?? DBNull.Value));
        command.Parameters.Add(new NpgsqlParameter("category_id", (object?)categoryId ?? DBNull.Value));
        command.Parameters.Add(new NpgsqlParameter("category_name", (object?)categoryName ?? DBNull.Value));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (Nullable(reader, 0), Nullable(reader, 1), Nullable(reader, 2));
    }

    /// <summary>A new stream starts: who has spoken is counted afresh from now on.</summary>
    public async Task StartStreamAsync(string broadcasterUserId, string streamId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO channel_state (broadcaster_user_id, stream_id) VALUES (@broadcaster, @stream)
            ON CONFLICT (broadcaster_user_id) DO UPDATE SET stream_id = excluded.stream_id
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<string>("stream", streamId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records that the user spoke in the current stream; true when this notification is their first message in it
    /// (also when the same notification is derived again after a retried batch).
    /// </summary>
    public async Task<bool> RecordChatterAsync(string messageId, string broadcasterUserId, string userId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO stream_chatters (broadcaster_user_id, stream_id, user_id, first_message_id)
            SELECT @broadcaster, COALESCE((SELECT stream_id FROM channel_state WHERE broadcaster_user_id = @broadcaster), ''), @user, @message
            ON CONFLICT (broadcaster_user_id, stream_id, user_id) DO UPDATE SET first_message_id = stream_chatters.first_message_id
            RETURNING first_message_id = @message
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("message", messageId));
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<string>("user", userId));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Records a hype train's level and returns the highest level seen before this notification (0 for a new train).
    /// The notification that raised the level gets the same answer when it is derived again.
    /// </summary>
    public async Task<int> RaiseHypeTrainLevelAsync(string messageId, string trainId, string broadcasterUserId, int level, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO hype_trains (id, broadcaster_user_id, level, raised_by_message_id, previous_level) VALUES (@id, @broadcaster, @level, @message, 0)
            ON CONFLICT (id) DO UPDATE SET
                previous_level = CASE WHEN excluded.level > hype_trains.level THEN hype_trains.level ELSE hype_trains.previous_level END,
                raised_by_message_id = CASE WHEN excluded.level > hype_trains.level THEN excluded.raised_by_message_id ELSE hype_trains.raised_by_message_id END,
                level = GREATEST(hype_trains.level, excluded.level)
            RETURNING CASE WHEN raised_by_message_id = @message THEN previous_level ELSE level END
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("message", messageId));
        command.Parameters.Add(new NpgsqlParameter<string>("id", trainId));
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<int>("level", level));
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Opens a gift bomb: its recipients' gifted subscriptions will claim its gifts.</summary>
    public async Task OpenGiftBombAsync(string id, string broadcasterUserId, int tier, string? gifterId, string? gifterLogin, string? gifterName, bool anonymous, int total, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO gift_bombs (id, broadcaster_user_id, tier, gifter_user_id, gifter_login, gifter_name, is_anonymous, total, remaining, created_at)
            VALUES (@id, @broadcaster, @tier, @gifter_id, @gifter_login, @gifter_name, @anonymous, @total, @total, @at)
            ON CONFLICT (id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("id", id));
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<int>("tier", tier));
        command.Parameters.Add(new NpgsqlParameter("gifter_id", (object?)gifterId ?? DBNull.Value));
        command.Parameters.Add(new NpgsqlParameter("gifter_login", (object?)gifterLogin ?? DBNull.Value));
        command.Parameters.Add(new NpgsqlParameter("gifter_name", (object?)gifterName ?? DBNull.Value));
        command.Parameters.Add(new NpgsqlParameter<bool>("anonymous", anonymous));
        command.Parameters.Add(new NpgsqlParameter<int>("total", total));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("at", at.ToUniversalTime()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A gifted subscription claims one gift of the open gift of its tier sent nearest in time to it, within
    /// <see cref="GiftBombWindow"/> either side, if any: Twitch sends a gift and its recipients' subscriptions within
    /// seconds, so an older gift with gifts left over (a recipient's subscription that came first, or never) is not the
    /// one a later lone gift belongs to. A notification claims at most once: derived again, it gets the gift it claimed before.
    /// </summary>
    public async Task<OpenGiftBomb?> ClaimGiftAsync(string messageId, string broadcasterUserId, int tier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH earlier AS (SELECT bomb_id FROM gift_claims WHERE message_id = @message),
            claimed AS (
                UPDATE gift_bombs SET remaining = remaining - 1
                WHERE NOT EXISTS (SELECT 1 FROM earlier)
                  AND id = (SELECT id FROM gift_bombs
                            WHERE broadcaster_user_id = @broadcaster AND tier = @tier AND remaining > 0 AND created_at BETWEEN @since AND @until
                            ORDER BY abs(extract(epoch FROM created_at - @at)), created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id),
            recorded AS (INSERT INTO gift_claims (message_id, bomb_id) SELECT @message, id FROM claimed)
            SELECT id, gifter_user_id, gifter_login, gifter_name, is_anonymous, total FROM gift_bombs
            WHERE id = COALESCE((SELECT bomb_id FROM earlier), (SELECT id FROM claimed))
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("message", messageId));
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<int>("tier", tier));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("at", at.ToUniversalTime()));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("since", (at - GiftBombWindow).ToUniversalTime()));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("until", (at + GiftBombWindow).ToUniversalTime()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new OpenGiftBomb
        {
            Id = reader.GetString(0),
            BroadcasterUserId = broadcasterUserId,
            Tier = tier,
            GifterUserId = Nullable(reader, 1),
            GifterLogin = Nullable(reader, 2),
            GifterName = Nullable(reader, 3),
            IsAnonymous = reader.GetBoolean(4),
            Total = reader.GetInt32(5),
        };
    }

    /// <summary>How far apart in time (by Twitch's message timestamps) a gift and a recipient's subscription can be and still belong together.</summary>
    public static readonly TimeSpan GiftBombWindow = TimeSpan.FromMinutes(1);

    private static string? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
