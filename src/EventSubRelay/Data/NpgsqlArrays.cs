using Npgsql;
using NpgsqlTypes;

namespace EventSubRelay.Data;

internal static class NpgsqlArrays
{
    /// <summary>Adds one column of a batch as an array parameter, for <c>unnest(@a, @b, …)</c> statements.</summary>
    public static void AddArray<T, TValue>(this NpgsqlCommand command, string name, IReadOnlyList<T> rows, Func<T, TValue> select, NpgsqlDbType type = NpgsqlDbType.Text)
    {
        var values = new TValue[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }

        command.Parameters.Add(new NpgsqlParameter<TValue[]>(name, values) { NpgsqlDbType = NpgsqlDbType.Array | type });
    }
}
