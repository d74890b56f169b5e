using System.Globalization;
using ClickFunctions.Queries;
using DuckDB.NET.Data;

namespace ClickFunctions.Embedded.Store;

/// <summary>Housekeeping and inspection: purging old claims, the dead letters, row counts, whether the store is empty.</summary>
internal static class StoreMaintenance
{
    /// <summary>Deletes claims of clicks before <paramref name="clickTimeBefore"/>; returns how many.</summary>
    public static long PurgeClaims(DuckDBConnection connection, DateTimeOffset clickTimeBefore)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM claims WHERE click_time < $before";
        command.Parameters.Add(new DuckDBParameter("before", clickTimeBefore.UtcDateTime));
        return command.ExecuteNonQuery();
    }

    public static List<(string Partition, long Sequence, string Reason)> ReadDeadLetters(DuckDBConnection connection)
    {
        var letters = new List<(string, long, string)>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT log_partition, sequence, reason FROM dead_letters ORDER BY log_partition, sequence";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            letters.Add((reader.GetString(0), reader.GetInt64(1), reader.GetString(2)));
        }
        return letters;
    }

    public static long CountRows(DuckDBConnection connection, Granularity granularity) =>
        Scalar(connection, $"SELECT count(*) FROM {StoreSchema.Rollups[(int)granularity].Table}");

    /// <summary>Whether the store has never consumed anything (a new or deleted store): only a rebuild can fill it.</summary>
    public static bool IsEmpty(DuckDBConnection connection) =>
        Scalar(connection, "SELECT (SELECT count(*) FROM positions) + (SELECT count(*) FROM clicks_minute)") == 0;

    private static long Scalar(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
