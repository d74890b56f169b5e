using System.Globalization;
using System.Text.Json;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Embedded.Operations;

/// <summary>
/// Erases clicks (one click id, or a range of click times) from a data directory with no host running
/// (docs/decisions/087-erasure-by-tombstones.md):
/// <list type="number">
/// <item>the log is scanned, and the journal <c>{data-dir}/erasure/pending.json</c> written with what matched and the
/// windows whose counts it touched (its minutes, plus the dedup horizon after them: a later repeat of an erased click
/// is no longer a duplicate);</item>
/// <item>each affected segment is rewritten with tombstones (<see cref="SegmentEraser"/>), atomically;</item>
/// <item>the claims of the erased clicks are deleted from the store, and each window is reconciled against the
/// rewritten log, so the counts drop by exactly what the log no longer holds (reconciliation is idempotent: a run
/// after a crash neither misses nor subtracts twice);</item>
/// <item>the report replaces the journal under <c>{data-dir}/erasure/</c>.</item>
/// </list>
/// A crash at any point leaves the journal; running the same erasure again finishes it.
/// </summary>
public sealed class ClickErasure(DuckDbClickStore store, EmbeddedReconciliation reconciliation, EmbeddedPaths paths, TimeSpan horizon, TimeProvider time)
{
    public const string DirectoryName = "erasure";
    public const string PendingName = "pending.json";

    public string Directory => Path.Combine(paths.DataDirectory, DirectoryName);

    public string PendingPath => Path.Combine(Directory, PendingName);

    /// <summary>The erasure, finished (<see cref="ErasureReport.FinishedAt"/> set, report path returned) or left pending with its reason.</summary>
    public async Task<(ErasureReport Report, string Path)> RunAsync(ErasureRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        System.IO.Directory.CreateDirectory(Directory);
        var journal = File.Exists(PendingPath)
            ? JsonSerializer.Deserialize(File.ReadAllBytes(PendingPath), ErasureJson.Default.ErasureReport)!
            : new ErasureReport { Request = request, StartedAt = time.GetUtcNow() };
        if (journal.Request != request)
        {
            throw new InvalidOperationException($"An erasure of {journal.Request.Describe()} is unfinished ({PendingPath}); run it again first.");
        }

        // 1. What the log still holds of it, journalled before any file changes.
        var found = new Dictionary<string, List<ErasedRecord>>(StringComparer.Ordinal);
        foreach (int partition in LocalClickLog.PartitionsIn(paths.LogDirectory))
        {
            string directory = LogSegments.PartitionDirectory(paths.LogDirectory, partition);
            foreach (long first in LogSegments.List(directory))
            {
                string path = LogSegments.PathOf(directory, first);
                var matched = SegmentEraser.Find(partition, path, request);
                if (matched.Count > 0)
                {
                    found[path] = matched;
                }
            }
        }
        var records = found.Values.SelectMany(r => r).ToList();
        journal = journal with
        {
            Records = [.. journal.Records.UnionBy(records, r => (r.Partition, r.Sequence))], // a re-run after a crash finds again what it had not rewritten yet
            SegmentsRewritten = [.. journal.SegmentsRewritten.Union(found.Keys, StringComparer.Ordinal)],
            Windows = Merge(journal.Windows, WindowOf(records)),
        };
        WriteAtomically(PendingPath, journal);

        // 2. The log, one atomic segment rewrite at a time.
        foreach (var (path, erased) in found)
        {
            SegmentEraser.Rewrite(path, erased.Select(r => r.Sequence).ToHashSet());
        }

        // 3. The store: the claims, then the counts, recounted from the rewritten log.
        long claims = store.DeleteClaims(request);
        var closed = reconciliation.Reconciler.LatestClosedMinute();
        var windows = new List<ErasureWindow>();
        bool complete = true;
        foreach (var window in journal.Windows)
        {
            var to = window.To < closed ? window.To : closed;
            if (to <= window.From)
            {
                windows.Add(window with { Status = nameof(ReconcileStatus.WindowOpen), Message = "not closed yet: the running host's periodic reconciliation recounts it once it closes" });
                continue;
            }
            var (report, _) = await reconciliation.RunAsync(window.From, to, cancellationToken).ConfigureAwait(false);
            complete &= report.Succeeded;
            windows.Add(window with { To = to, Status = report.Status.ToString(), ClickDifference = report.AbsoluteClickDifference, InvalidDifference = report.AbsoluteInvalidClickDifference, Message = report.Message });
        }
        journal = journal with { ClaimsDeleted = journal.ClaimsDeleted + claims, Windows = windows };
        if (!complete)
        {
            journal = journal with { Message = "the log is erased but a window could not be reconciled (see its status); run the same erase again to finish" };
            WriteAtomically(PendingPath, journal with { Windows = Merge([], journal.Windows.Select(w => new ErasureWindow(w.From, w.To)).ToList()) });
            return (journal, PendingPath);
        }
        journal = journal with
        {
            FinishedAt = time.GetUtcNow(),
            Message = string.Create(CultureInfo.InvariantCulture, $"erased {journal.Records.Count} log records of {request.Describe()} from {journal.SegmentsRewritten.Count} segments; {journal.ClaimsDeleted} claims deleted; counts recounted in {windows.Count} windows"),
        };
        string reportPath = Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"erasure-{journal.FinishedAt.Value.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}.json"));
        WriteAtomically(reportPath, journal);
        File.Delete(PendingPath);
        LogSegments.SyncDirectory(Directory);
        return (journal, reportPath);
    }

    /// <summary>The minutes of the erased clicks, and the dedup horizon after the last (a later repeat now counts as the first).</summary>
    private List<ErasureWindow> WindowOf(List<ErasedRecord> records) => records.Count == 0 ? [] :
    [
        new(TimeBuckets.FloorToMinute(records.Min(r => r.ClickTime)), TimeBuckets.FloorToMinute(records.Max(r => r.ClickTime)).AddMinutes(1) + horizon),
    ];

    private static List<ErasureWindow> Merge(List<ErasureWindow> a, List<ErasureWindow> b)
    {
        var all = a.Concat(b).OrderBy(w => w.From).ToList();
        var merged = new List<ErasureWindow>();
        foreach (var w in all)
        {
            if (merged.Count > 0 && w.From <= merged[^1].To)
            {
                merged[^1] = merged[^1] with { To = w.To > merged[^1].To ? w.To : merged[^1].To };
            }
            else
            {
                merged.Add(new ErasureWindow(w.From, w.To));
            }
        }
        return merged;
    }

    private static void WriteAtomically(string path, ErasureReport report)
    {
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(JsonSerializer.SerializeToUtf8Bytes(report, ErasureJson.Default.ErasureReport));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        LogSegments.SyncDirectory(Path.GetDirectoryName(path)!);
    }
}
