using EventSubRelay.Data;
using Npgsql;

namespace EventSubRelay.Events;

/// <summary>
/// The state some events are derived from, kept in PostgreSQL so that it survives restarts and is shared by
/// every instance. Each method is one statement, so concurrent instances never read-then-write.
/// </summary>
internal sealed class DerivationState(NpgsqlDataSource dataSource)
{
    /// <summary>Stores the channel's new title and category and returns the previous ones (null the first time).</summary>
    public async Task<(string? Title, string? CategoryId, string? CategoryName)> ReplaceChannelInfoAsync(
        string broadcasterUserId, string? title, string? categoryId, string? categoryName, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH previous AS (SELECT title, category_id, category_name FROM channel_state WHERE broadcaster_user_id = @broadcaster)
            INSERT INTO channel_state (broadcaster_user_id, title, category_id, category_name) VALUES (@broadcaster, @title, @category_id, @category_name)
            ON CONFLICT (broadcaster_user_id) DO UPDATE SET title = excluded.title, category_id = excluded.category_id, category_name = excluded.category_name
            RETURNING (SELECT title FROM previous), (SELECT category_id FROM previous), (SELECT category_name FROM previous)
            """);
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

    /// <summary>Records that the user spoke in the current stream; true when it is their first message in it.</summary>
    public async Task<bool> RecordChatterAsync(string broadcasterUserId, string userId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO stream_chatters (broadcaster_user_id, stream_id, user_id)
            SELECT @broadcaster, COALESCE((SELECT stream_id FROM channel_state WHERE broadcaster_user_id = @broadcaster), ''), @user
            ON CONFLICT DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<string>("user", userId));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Records a hype train's level and returns the highest level seen before (0 for a new train).</summary>
    public async Task<int> RaiseHypeTrainLevelAsync(string trainId, string broadcasterUserId, int level, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH previous AS (SELECT level FROM hype_trains WHERE id = @id)
            INSERT INTO hype_trains (id, broadcaster_user_id, level) VALUES (@id, @broadcaster, @level)
            ON CONFLICT (id) DO UPDATE SET level = GREATEST(hype_trains.level, excluded.level)
            RETURNING COALESCE((SELECT level FROM previous), 0)
            """);
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

    /// <summary>A gifted subscription claims one gift of the oldest open bomb of its tier from the last few minutes, if any.</summary>
    public async Task<OpenGiftBomb?> ClaimGiftAsync(string broadcasterUserId, int tier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gift_bombs SET remaining = remaining - 1
            WHERE id = (SELECT id FROM gift_bombs
                        WHERE broadcaster_user_id = @broadcaster AND tier = @tier AND remaining > 0 AND created_at > @since
                        ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, gifter_user_id, gifter_login, gifter_name, is_anonymous, total
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("broadcaster", broadcasterUserId));
        command.Parameters.Add(new NpgsqlParameter<int>("tier", tier));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("since", (at - GiftBombWindow).ToUniversalTime()));
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

    /// <summary>How long after a gift bomb its recipients' subscriptions are still counted as part of it.</summary>
    public static readonly TimeSpan GiftBombWindow = TimeSpan.FromMinutes(5);

    private static string? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
