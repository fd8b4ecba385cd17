using Npgsql;

namespace EventSubRelay.IntegrationTests.Infrastructure;

/// <summary>Direct SQL against a relay's database, to check or arrange what is stored.</summary>
public static class Database
{
    /// <summary>
    /// The notifications not delivered yet, as <c>FROM {Undelivered} AND …</c>: those above the delivery watermark of the
    /// instance that committed them (<c>n</c> is the notification).
    /// </summary>
    public const string Undelivered = "notifications n LEFT JOIN delivery_watermarks w ON w.instance_key = n.ingested_by WHERE n.seq > COALESCE(w.delivered_through, 0)";

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static Task<long> CountAsync(string connectionString, string sql, params (string Name, object Value)[] parameters) =>
        ScalarAsync<long>(connectionString, sql, parameters);

    public static async Task ExecuteAsync(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, sql, parameters);
    }

    /// <summary>On an open connection, so inside its transaction if it has one.</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Polls a boolean query until it is true (what the relay does inside PostgreSQL cannot be awaited otherwise).</summary>
    public static async Task WaitForAsync(string connectionString, string sql, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation.Token);
        await using var command = new NpgsqlCommand(sql, connection);
        while (!(bool)(await command.ExecuteScalarAsync(cancellation.Token))!)
        {
            await Task.Delay(20, cancellation.Token);
        }
    }
}
