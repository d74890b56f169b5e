using System.Globalization;
using DuckDB.NET.Data;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// DuckDB's memory limit for the store, sized to the store when <c>ClickStore:MemoryLimit</c> is <c>auto</c>
/// (docs/decisions/094). DuckDB keeps the ART index nodes a lookup has loaded resident, counted against the limit
/// and never evicted (measured: <c>duckdb_memory()</c> tag <c>ART_INDEX</c> grows with every distinct ad queried
/// until the index is whole, then stays); once they fill the limit every lookup fails with an out-of-memory error.
/// So the limit must grow with the indexed rows: a base for table pages and statements plus
/// <see cref="IndexBytesPerRow"/> per row of every indexed table, capped at <see cref="AvailableShare"/> of the
/// memory this process may use. DuckDB's limit is a ceiling, not a reservation: a generous one costs nothing until
/// the indexes are read.
/// </summary>
internal static class StoreMemory
{
    public const string Auto = "auto";

    /// <summary>Table pages, statements and the writer's batches: the fixed part (the old fixed default).</summary>
    public const long BaseBytes = 192L * 1024 * 1024;

    /// <summary>
    /// Index memory per row of an indexed table, with headroom. Measured on the year benchmark store (hour rollup,
    /// 73.8M rows, random ads read until the tag stopped growing): its <c>page</c> index settled at 882 MiB (12.5 B a
    /// row) and its primary-key index on <c>k</c>, which the writer's upserts walk, at about 2,150 MiB (30 B a row).
    /// Both together, rounded up.
    /// </summary>
    public const long IndexBytesPerRow = 48;

    /// <summary>The most of this process's available memory the store may take (the rest is the host's).</summary>
    public const double AvailableShare = 0.6;

    /// <summary>Whether <paramref name="setting"/> asks for a limit sized to the store.</summary>
    public static bool IsAuto(string setting) => string.Equals(setting, Auto, StringComparison.OrdinalIgnoreCase);

    /// <summary>The rows of the tables that carry ART indexes (DuckDB's estimate from metadata: no scan).</summary>
    public static long IndexedRows(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(sum(t.estimated_size), 0)::BIGINT FROM duckdb_tables() t WHERE t.database_name = current_database() AND t.has_primary_key";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The limit for <paramref name="indexedRows"/> rows when the process may use <paramref name="available"/> bytes.</summary>
    public static long AutoBytes(long indexedRows, long available) =>
        Math.Max(BaseBytes, Math.Min(BaseBytes + (indexedRows * IndexBytesPerRow), Cap(available)));

    /// <summary>The most an automatic limit may be when the process may use <paramref name="available"/> bytes.</summary>
    public static long Cap(long available) => Math.Max(BaseBytes, (long)(available * AvailableShare));

    /// <summary>What this process may use: the GC's view, which honours container and cgroup limits.</summary>
    public static long Available() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>DuckDB's spelling of a byte count, in whole MiB.</summary>
    public static string Format(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, bytes / (1024 * 1024))}MiB");
}
