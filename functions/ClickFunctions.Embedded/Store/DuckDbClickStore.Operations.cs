using System.Globalization;
using ClickFunctions.Ports;
using ClickFunctions.Queries;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// Operations on the store beyond the consumer's commits: the marks of retention and reconciliation
/// (<see cref="StoreMarks"/>), deleting rollup rows past their retention, and a consistent copy of the file for a
/// backup. All of them run on the writer connection, behind the writer lock.
/// </summary>
public sealed partial class DuckDbClickStore
{
    private volatile StoreMarks _marks = StoreMarks.None;

    /// <summary>The marks as last committed (cached: the query path checks them on every call).</summary>
    public StoreMarks Marks => _marks;

    /// <summary>Records that every window before <paramref name="through"/> has been reconciled without a hole (only ever moves forward).</summary>
    public void MarkReconciledThrough(DateTimeOffset through) => OnWriter(c =>
    {
        if (_marks.ReconciledThrough is { } current && current >= through)
        {
            return 0;
        }
        StoreMarks.Set(c, StoreMarks.ReconciledThroughName, through);
        _marks = StoreMarks.Load(c);
        return 0;
    });

    /// <summary>Records that the log is kept from <paramref name="from"/> on (older segments were deleted).</summary>
    public void MarkLogRetainedFrom(DateTimeOffset from) => OnWriter(c =>
    {
        if (_marks.Floor(StoreMarks.LogName) is { } current && current >= from)
        {
            return 0;
        }
        StoreMarks.Set(c, StoreMarks.RetainedPrefix + StoreMarks.LogName, from);
        _marks = StoreMarks.Load(c);
        return 0;
    });

    /// <summary>
    /// Deletes the rows of <paramref name="granularity"/>'s rollup whose bucket starts before <paramref name="cutoff"/>
    /// and records the new floor, in one transaction; returns how many rows went. The dimension rollups go with the
    /// rollup whose period they share (docs/decisions/088): quarter hours with the minutes, days with the days.
    /// </summary>
    public long DeleteRollupBefore(Granularity granularity, DateTimeOffset cutoff) => OnWriter(c =>
    {
        string what = granularity.Code();
        if (_marks.Floor(what) is { } current && current >= cutoff)
        {
            return 0L;
        }
        using var transaction = c.BeginTransaction();
        using var command = c.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"DELETE FROM {StoreSchema.Rollups[(int)granularity].Table} WHERE bucket_start < $cutoff";
        command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("cutoff", cutoff.UtcDateTime));
        long deleted = command.ExecuteNonQuery();
        if (DimensionRollupOf(granularity) is { } dims)
        {
            using var trim = c.CreateCommand();
            trim.Transaction = transaction;
            // Bucket numbers are Unix quarter hours or days; a row goes when its bucket starts before the cutoff.
            long seconds = dims.Minutes * 60L;
            long firstKept = (cutoff.ToUnixTimeSeconds() + seconds - 1) / seconds;
            // The advertiser's day rollup goes with the ad day rows it sums (decision 103).
            foreach (string table in granularity == Granularity.Day ? [dims.Table, "advertiser_dims_day"] : new[] { dims.Table })
            {
                trim.CommandText = string.Create(CultureInfo.InvariantCulture, $"DELETE FROM {table} WHERE bucket < {firstKept}");
                DimensionRowsDeleted += trim.ExecuteNonQuery();
            }
        }
        if (granularity == Granularity.Hour)
        {
            // Compacted days stand in for hour rows (decision 104): a day starting before the cutoff goes with them.
            _batches.ForgetBefore((cutoff.ToUnixTimeSeconds() + 86_399) / 86_400);
        }
        StoreMarks.Set(c, StoreMarks.RetainedPrefix + what, cutoff);
        transaction.Commit();
        _batches.Reload();
        _marks = StoreMarks.Load(c);
        return deleted;
    });

    /// <summary>
    /// Compacts closed UTC days into quarter-hour rows (docs/decisions/104), oldest first: the days that end at or
    /// before <paramref name="through"/> (the host passes how far reconciliation has confirmed the counts, so a day is
    /// compacted once its corrections are in), whose minute and hour rows are still kept, and that are not compacted
    /// yet. Each day is one transaction under the writer lock, so batches go on between days; the pass stops after
    /// the day that ends past <paramref name="budget"/>. Returns the days compacted.
    /// </summary>
    public int CompactDays(DateTimeOffset through, TimeSpan budget)
    {
        const long DaySeconds = 86_400;
        long first = OnWriter(c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = "SELECT min(bucket_start) FROM clicks_minute";
            return command.ExecuteScalar() is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeSeconds() / DaySeconds : long.MaxValue;
        });
        foreach (string floor in new[] { Granularity.Minute.Code(), Granularity.Hour.Code() })
        {
            if (_marks.Floor(floor) is { } kept)
            {
                first = Math.Max(first, (kept.ToUnixTimeSeconds() + DaySeconds - 1) / DaySeconds);
            }
        }
        long end = through.ToUnixTimeSeconds() / DaySeconds;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int compacted = 0;
        for (long day = first; day < end && watch.Elapsed < budget; day++)
        {
            long d = day;
            if (OnWriter(_ => _batches.IsCompacted(d) ? -1 : _batches.Compact(d)) >= 0)
            {
                compacted++;
            }
        }
        return compacted;
    }

    /// <summary>Whether UTC day <paramref name="day"/> (Unix day number) is compacted (for tests and diagnostics).</summary>
    public bool IsCompacted(long day) => OnWriter(_ => _batches.IsCompacted(day));

    /// <summary>Dimension rows retention has deleted since the store opened (for the sweep's log line and tests).</summary>
    public long DimensionRowsDeleted { get; private set; }

    /// <summary>The dimension rollup kept for <paramref name="granularity"/>'s period: quarter hours with minutes, days with days.</summary>
    internal static (string Table, int Minutes)? DimensionRollupOf(Granularity granularity) => granularity switch
    {
        Granularity.Minute => StoreSchema.DimensionRollups[0],
        Granularity.Day => StoreSchema.DimensionRollups[1],
        _ => null,
    };

    /// <summary>
    /// Throws <see cref="RangeNotRetainedException"/> when a breakdown reads a dimension rollup before its floor: quarter
    /// hours (the edges of a range that is not whole UTC days) before the minute floor, days before the day floor.
    /// </summary>
    public void EnsureRetained(string dimensionTable, DateTimeOffset from)
    {
        var (granularity, what) = string.Equals(dimensionTable, StoreSchema.DimensionRollups[0].Table, StringComparison.Ordinal)
            ? (Granularity.Minute, "quarter-hour")
            : (Granularity.Day, "day");
        if (_marks.Floor(granularity.Code()) is { } floor && from < floor)
        {
            string alternative = granularity == Granularity.Minute ? ", or use whole UTC days (tz=UTC, midnight to midnight), which are read from the day rows kept longer." : ".";
            throw new RangeNotRetainedException(string.Create(CultureInfo.InvariantCulture,
                $"breakdown {what} rows before {floor.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} are no longer kept (retention deleted them with the {granularity.Code()} buckets); the range needs them from {from.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}. Start the range at or after {floor.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}{alternative}"));
        }
    }

    /// <summary>Throws <see cref="RangeNotRetainedException"/> when <paramref name="segment"/> starts before its rollup's floor.</summary>
    public void EnsureRetained(QuerySegment segment)
    {
        if (_marks.Floor(segment.Rollup.Code()) is { } floor && segment.Range.From < floor)
        {
            throw new RangeNotRetainedException(string.Create(CultureInfo.InvariantCulture,
                $"{segment.Rollup.Code()} buckets before {floor.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} are no longer kept (retention deleted them); the range reaches back to {segment.Range.From.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}. Start the range at or after {floor.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}, or use a coarser granularity, which is kept longer."));
        }
    }

    /// <summary>
    /// A consistent copy of the store: under the writer lock (no commit, correction or retention runs meanwhile)
    /// the store is checkpointed, so the file alone holds every committed transaction, and copied to
    /// <paramref name="destination"/> and fsync'd. Readers go on answering queries; the consumer waits for the copy
    /// (the log keeps taking clicks). Returns the consumer's positions the copy holds.
    /// </summary>
    public IReadOnlyDictionary<int, long> CopyTo(string destination) => OnWriter(c =>
    {
        StoreSchema.Execute(c, "CHECKPOINT");
        var positions = StorePositions.Load(c);
        using (var source = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20))
        using (var target = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            source.CopyTo(target, 1 << 20);
            target.Flush(flushToDisk: true);
        }
        return (IReadOnlyDictionary<int, long>)positions;
    });

    /// <summary>Deletes the dedup claims of an erased click id or click-time range; returns how many.</summary>
    public long DeleteClaims(Operations.ErasureRequest request) => OnWriter(c =>
    {
        ArgumentNullException.ThrowIfNull(request);
        using var command = c.CreateCommand();
        if (request.ClickId is { } text && Clicks.ClickId.TryParse(text, out var id))
        {
            command.CommandText = "DELETE FROM claims WHERE id_hi = $hi AND id_lo = $lo";
            command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("hi", (ulong)(id.Value >> 64)));
            command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("lo", (ulong)id.Value));
        }
        else
        {
            command.CommandText = "DELETE FROM claims WHERE click_time >= $from AND click_time < $to";
            command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("from", request.From!.Value.UtcDateTime));
            command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("to", request.To!.Value.UtcDateTime));
        }
        return (long)command.ExecuteNonQuery();
    });
}
