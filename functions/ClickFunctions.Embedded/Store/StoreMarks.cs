using System.Globalization;
using DuckDB.NET.Data;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// Instants the store remembers in its <c>store_info</c> table (no schema change: one row per mark): how far
/// reconciliation has verified the counts without a hole (<see cref="ReconciledThrough"/>), and from when on each
/// rollup and the log are still kept after retention deleted older data (<see cref="RetainedFrom"/>). Absent marks
/// mean "never reconciled" and "nothing deleted". See docs/decisions/085-embedded-retention.md.
/// </summary>
public sealed record StoreMarks(DateTimeOffset? ReconciledThrough, IReadOnlyDictionary<string, DateTimeOffset> RetainedFrom)
{
    public const string ReconciledThroughName = "reconciled_through";
    public const string RetainedPrefix = "retained_from.";
    public const string LogName = "log";

    public static readonly StoreMarks None = new(null, new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal));

    /// <summary>The first instant still kept of <paramref name="what"/> (<c>log</c>, <c>minute</c>, <c>hour</c>, <c>day</c>), null when nothing was deleted.</summary>
    public DateTimeOffset? Floor(string what) => RetainedFrom.TryGetValue(what, out var floor) ? floor : null;

    internal static StoreMarks Load(DuckDBConnection connection, DuckDBTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT name, value FROM store_info WHERE name = $reconciled OR starts_with(name, $prefix)";
        command.Parameters.Add(new DuckDBParameter("reconciled", ReconciledThroughName));
        command.Parameters.Add(new DuckDBParameter("prefix", RetainedPrefix));
        DateTimeOffset? reconciled = null;
        var retained = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var value = DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            string name = reader.GetString(0);
            if (name == ReconciledThroughName)
            {
                reconciled = value;
            }
            else
            {
                retained[name[RetainedPrefix.Length..]] = value;
            }
        }
        return new StoreMarks(reconciled, retained);
    }

    internal static void Set(DuckDBConnection connection, string name, DateTimeOffset value)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO store_info VALUES ($name, $value) ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        command.Parameters.Add(new DuckDBParameter("name", name));
        command.Parameters.Add(new DuckDBParameter("value", value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)));
        command.ExecuteNonQuery();
    }
}
