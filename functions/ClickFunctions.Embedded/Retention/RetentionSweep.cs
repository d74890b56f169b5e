using System.Globalization;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Embedded.Retention;

/// <summary>A segment retention looked at, and why it stayed (null: deleted).</summary>
public sealed record SegmentVerdict(int Partition, long FirstSequence, string Path, string? KeptBecause);

/// <summary>What one retention sweep did.</summary>
public sealed record RetentionReport(DateTimeOffset At, IReadOnlyList<SegmentVerdict> Segments, long MinuteRows, long HourRows, long DayRows)
{
    public IEnumerable<SegmentVerdict> Deleted => Segments.Where(s => s.KeptBecause is null);
}

/// <summary>
/// Applies retention once: rollup rows older than their period are deleted (with the floor recorded in the same
/// transaction), and each partition's oldest sealed segments are deleted, in order, while all of these hold: the
/// segment's newest click is older than <see cref="RetentionOptions.Log"/> (bounded by the next segment's first
/// enqueued time), the consumer has passed it (its stored position is at or after the next segment's first sequence),
/// and reconciliation has closed its windows (<c>reconciled_through</c> after that bound). The active segment never
/// goes. The log's floor is recorded before any file is deleted, so a crash mid-sweep leaves a floor that refuses what
/// may be gone rather than a shortened log that reconciles to zero. Segments go only from the front, so every
/// partition stays contiguous and the sequence audit sees no gap (a partition's first file names its first sequence).
/// (docs/architecture.md, invariant 10.)
/// </summary>
public sealed partial class RetentionSweep(DuckDbClickStore store, string logDirectory, RetentionOptions options, ILogger<RetentionSweep> logger, Operations.MaintenanceLock? maintenance = null)
{
    public RetentionReport Run(DateTimeOffset now)
    {
        using var _ = maintenance?.Enter();
        // Periodic, so the automatic memory limit follows the store as it grows (docs/decisions/094).
        store.RefreshMemoryLimit();
        long minutes = store.DeleteRollupBefore(Granularity.Minute, TimeBuckets.FloorToMinute(now - options.Minute));
        long hours = store.DeleteRollupBefore(Granularity.Hour, FloorTo(now - options.Hour, TimeSpan.FromHours(1)));
        long days = store.DeleteRollupBefore(Granularity.Day, FloorTo(now - options.Day, TimeSpan.FromDays(1)));

        var positions = store.LoadPositions();
        var reconciled = store.Marks.ReconciledThrough;
        var verdicts = new List<SegmentVerdict>();
        var doomed = new List<string>();
        DateTimeOffset? floor = null;
        foreach (int partition in LocalClickLog.PartitionsIn(logDirectory))
        {
            string directory = LogSegments.PartitionDirectory(logDirectory, partition);
            var segments = LogSegments.List(directory);
            bool blocked = false;
            for (int i = 0; i < segments.Count; i++)
            {
                string path = LogSegments.PathOf(directory, segments[i]);
                string? kept = blocked ? "an older segment of its partition stays" : null;
                DateTimeOffset? newest = null;
                if (kept is null && i == segments.Count - 1)
                {
                    kept = "it is the active segment";
                }
                if (kept is null)
                {
                    newest = RetainedWindows.FirstEnqueued(LogSegments.PathOf(directory, segments[i + 1]));
                    kept = newest is not { } bound ? "the next segment holds no click yet, so its newest click time is unknown"
                        : bound > now - options.Log ? string.Create(CultureInfo.InvariantCulture, $"it holds clicks up to {bound:O}, within Retention:Log")
                        : positions.GetValueOrDefault(partition) < segments[i + 1] ? string.Create(CultureInfo.InvariantCulture, $"the consumer has not passed it (at {positions.GetValueOrDefault(partition)}, it ends at {segments[i + 1] - 1})")
                        : reconciled is not { } through || through <= bound ? string.Create(CultureInfo.InvariantCulture, $"reconciliation has not closed its windows (reconciled through {reconciled?.ToString("O", CultureInfo.InvariantCulture) ?? "never"})")
                        : null;
                }
                blocked |= kept is not null;
                verdicts.Add(new SegmentVerdict(partition, segments[i], path, kept));
                if (kept is null)
                {
                    doomed.Add(path);
                    floor = floor is { } f && f > newest!.Value ? f : newest!.Value;
                }
            }
        }
        if (floor is { } logFloor)
        {
            store.MarkLogRetainedFrom(logFloor);
            foreach (string path in doomed)
            {
                File.Delete(path);
                Log.SegmentDeleted(logger, path);
            }
            foreach (string directory in doomed.Select(p => Path.GetDirectoryName(p)!).Distinct(StringComparer.Ordinal))
            {
                LogSegments.SyncDirectory(directory);
            }
        }
        var report = new RetentionReport(now, verdicts, minutes, hours, days);
        if (doomed.Count > 0 || minutes + hours + days > 0)
        {
            Log.Swept(logger, doomed.Count, minutes, hours, days);
        }
        return report;
    }

    private static DateTimeOffset FloorTo(DateTimeOffset instant, TimeSpan unit) =>
        new(instant.UtcTicks - (instant.UtcTicks % unit.Ticks), TimeSpan.Zero);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Retention: deleted log segment {Path} (older than Retention:Log, consumed and reconciled).")]
        public static partial void SegmentDeleted(ILogger logger, string path);

        [LoggerMessage(2, LogLevel.Information, "Retention: {Segments} log segments, {Minutes} minute, {Hours} hour and {Days} day rows deleted.")]
        public static partial void Swept(ILogger logger, int segments, long minutes, long hours, long days);
    }
}
