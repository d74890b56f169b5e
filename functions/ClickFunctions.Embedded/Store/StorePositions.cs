using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using DuckDB.NET.Data;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// What the consumer resumes from: each log partition's next sequence number, and the dedup claims within the
/// horizon. Read at start by the consumer and, with the minute rows in one snapshot, by reconciliation.
/// </summary>
internal static class StorePositions
{
    /// <summary>Each log partition's next sequence number not yet aggregated, inside <paramref name="transaction"/> when given.</summary>
    public static Dictionary<int, long> Load(DuckDBConnection connection, DuckDBTransaction? transaction = null)
    {
        var positions = new Dictionary<int, long>();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT log_partition, next_sequence FROM positions";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            positions[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return positions;
    }

    /// <summary>The claims of clicks at or after <paramref name="since"/> (the latest claim per click id).</summary>
    public static List<NewClaim> LoadClaims(DuckDBConnection connection, DateTimeOffset since)
    {
        var claims = new List<NewClaim>();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id_hi, id_lo, max(click_time), arg_max(log_partition, click_time), arg_max(sequence, click_time)
            FROM claims WHERE click_time >= $since GROUP BY id_hi, id_lo
            """;
        command.Parameters.Add(new DuckDBParameter("since", since.UtcDateTime));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var id = new ClickId(new UInt128(reader.GetFieldValue<ulong>(0), reader.GetFieldValue<ulong>(1)));
            var time = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc));
            claims.Add(new NewClaim(id, new Claim(time, reader.GetString(3), reader.GetInt64(4))));
        }
        return claims;
    }
}
