using System.Security.Cryptography;
using Npgsql;

namespace EventSubRelay.Data;

/// <summary>
/// Proof that this relay instance is alive, kept in PostgreSQL: for as long as it runs, the instance holds
/// a session advisory lock on its own random key, and it stamps the notifications it commits with that key.
/// A notification left undelivered by an instance whose lock is free was left by a crashed instance, and any
/// other instance may adopt and deliver it; one whose owner still holds its lock is that owner's to deliver.
/// </summary>
internal sealed class InstanceLease(NpgsqlDataSource dataSource, ILogger<InstanceLease> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _guard = new(1, 1);
    private NpgsqlConnection? _connection;

    /// <summary>This instance's key: random, positive, and never 0 (the owner of rows from before ownership existed).</summary>
    public long Key { get; } = RandomNumberGenerator.GetInt32(1, int.MaxValue) * (long)int.MaxValue + RandomNumberGenerator.GetInt32(int.MaxValue);

    /// <summary>Takes the lock, or takes it again if the session holding it was lost (say, a database restart).</summary>
    public async Task EnsureHeldAsync(CancellationToken cancellationToken)
    {
        await _guard.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { State: System.Data.ConnectionState.Open })
            {
                try
                {
                    await using var ping = new NpgsqlCommand("SELECT 1", _connection);
                    await ping.ExecuteScalarAsync(cancellationToken);
                    return;
                }
                catch (NpgsqlException)
                {
                    logger.LogWarning("Lost the database session that marks instance {InstanceKey} as alive; taking it again", Key);
                }
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }

            _connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", _connection);
            command.Parameters.Add(new NpgsqlParameter<long>("key", Key));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            _guard.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _guard.Dispose();
    }
}
