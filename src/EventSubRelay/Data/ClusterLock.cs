using Npgsql;

namespace EventSubRelay.Data;

/// <summary>
/// A PostgreSQL session advisory lock, so that one instance of several does a job at a time. Held on a connection
/// of its own until disposed; if the process dies, PostgreSQL releases it with the connection.
/// </summary>
internal sealed class ClusterLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;

    private ClusterLock(NpgsqlConnection connection, long key) => (_connection, _key) = (connection, key);

    /// <summary>Waits until the lock is free and takes it.</summary>
    public static async Task<ClusterLock> AcquireAsync(NpgsqlDataSource dataSource, long key, CancellationToken cancellationToken) =>
        (await TakeAsync(dataSource, key, wait: true, cancellationToken))!;

    /// <summary>Takes the lock if it is free; null when another session holds it.</summary>
    public static Task<ClusterLock?> TryAcquireAsync(NpgsqlDataSource dataSource, long key, CancellationToken cancellationToken) =>
        TakeAsync(dataSource, key, wait: false, cancellationToken);

    private static async Task<ClusterLock?> TakeAsync(NpgsqlDataSource dataSource, long key, bool wait, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand(wait ? "SELECT true FROM pg_advisory_lock(@key)" : "SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.Add(new NpgsqlParameter<long>("key", key));
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return new ClusterLock(connection, key);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", _connection);
            command.Parameters.Add(new NpgsqlParameter<long>("key", _key));
            await command.ExecuteScalarAsync(CancellationToken.None);
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
