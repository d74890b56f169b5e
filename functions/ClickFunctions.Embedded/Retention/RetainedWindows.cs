using System.Globalization;
using ClickFunctions.Capture;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Embedded.Retention;

/// <summary>
/// What reconciliation may still do once retention deletes data, and how far it has verified the counts: a window
/// whose recount would read log events before the log's floor (its dedup lookback included), or correct minutes
/// before the minute rollup's floor, is refused with its reason (<see cref="ReconcileStatus.NotRetained"/>), never
/// recounted as zero; a run that matched or corrected moves the store's <c>reconciled_through</c> mark forward when
/// it starts at or before it (so the mark never jumps a hole), and a host that was down catches up from the mark.
/// See docs/decisions/085-embedded-retention.md.
/// </summary>
public sealed class RetainedWindows(DuckDbClickStore store, string logDirectory, TimeSpan dedupLookback)
{
    /// <summary>The longest window one catch-up run reconciles.</summary>
    public static readonly TimeSpan MaxCatchUp = TimeSpan.FromHours(6);

    /// <summary>Why [from, to) can no longer be reconciled, or null when it can.</summary>
    public string? Refusal(DateTimeOffset from, DateTimeOffset to)
    {
        var marks = store.Marks;
        if (marks.Floor(StoreMarks.LogName) is { } logFloor && from - dedupLookback < logFloor)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"the log before {logFloor:O} was deleted by retention (Retention:Log); recounting [{from:O}, {to:O}) needs the log from {from - dedupLookback:O} (the window less the dedup lookback), so it is refused rather than recounted short. The earliest window that can be reconciled starts at {TimeBuckets.FloorToMinute(logFloor + dedupLookback).AddMinutes(1):O}");
        }
        if (marks.Floor("minute") is { } minuteFloor && from < minuteFloor)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"minute buckets before {minuteFloor:O} were deleted by retention (Retention:Minute); [{from:O}, {to:O}) reaches before them, so it is refused");
        }
        return null;
    }

    public static ReconcileReport Refuse(DateTimeOffset from, DateTimeOffset to, string reason) =>
        new() { From = from, To = to, Status = ReconcileStatus.NotRetained, Message = reason };

    /// <summary>Advances <c>reconciled_through</c> after a successful run that leaves no hole behind the mark.</summary>
    public void Record(ReconcileReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!report.Succeeded)
        {
            return;
        }
        var through = store.Marks.ReconciledThrough;
        bool contiguous = through is { } mark
            ? report.From <= mark
            : LogStart() is not { } start || report.From <= TimeBuckets.FloorToMinute(start).AddMinutes(-1);
        if (contiguous)
        {
            store.MarkReconciledThrough(report.To);
        }
    }

    /// <summary>The window a periodic run should reconcile: the due one, or, when the mark lags behind it, the next one from the mark.</summary>
    public (DateTimeOffset From, DateTimeOffset To) Next((DateTimeOffset From, DateTimeOffset To) due)
    {
        if (store.Marks.ReconciledThrough is { } mark && mark < due.From)
        {
            var to = mark + MaxCatchUp < due.To ? mark + MaxCatchUp : due.To;
            return (mark, to);
        }
        return due;
    }

    /// <summary>The enqueued time of the oldest event still in the log (the first block of each partition's first segment), null for an empty log.</summary>
    public DateTimeOffset? LogStart()
    {
        DateTimeOffset? start = null;
        foreach (int partition in LocalClickLog.PartitionsIn(logDirectory))
        {
            var segments = LogSegments.List(LogSegments.PartitionDirectory(logDirectory, partition));
            if (segments.Count > 0 && FirstEnqueued(LogSegments.PathOf(LogSegments.PartitionDirectory(logDirectory, partition), segments[0])) is { } first)
            {
                start = start is { } s && s < first ? s : first;
            }
        }
        return start;
    }

    /// <summary>The enqueued time of a segment's first event, null when it has none (yet).</summary>
    internal static DateTimeOffset? FirstEnqueued(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        using var reader = CaptureFileReader.Open(stream, leaveOpen: true);
        if (reader is null)
        {
            return null;
        }
        var records = new List<CaptureRecord>();
        return reader.TryReadBlock(stream.Length, records) == BlockStatus.Read && records.Count > 0 ? records[0].EnqueuedTimeUtc : null;
    }
}
