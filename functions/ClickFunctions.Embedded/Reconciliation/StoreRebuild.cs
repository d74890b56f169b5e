using ClickFunctions.Aggregation;
using System.Globalization;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Embedded.Reconciliation;

/// <summary>How a rebuild ended: done, refused for gaps in the log, or refused for a window narrower than the log.</summary>
public enum RebuildOutcome
{
    Rebuilt,
    Gaps,
    WindowTooNarrow,
}

public sealed record RebuildResult(RebuildOutcome Outcome, ReconcileReport? Report, string? ReportPath, string? Message);

/// <summary>
/// Disaster recovery: an empty store (deleted, or never run) is rebuilt from a recount of the whole log, with the
/// buckets, the claims (so clicks after the rebuild are still deduplicated against it) and the consumer's positions at
/// the end of what was read (so the consumer does not count the log a second time), but only if [from, to) holds
/// every click of the log: a partial rebuild would leave the consumer either recounting or skipping the rest.
/// <para>
/// The rebuilt store is written to <c>{store}.rebuild</c>, checkpointed (no WAL left), fsync'd, and renamed over the
/// empty store, then the directory is fsync'd: a crash at any point leaves either the empty store (a re-run starts
/// over) or the whole rebuilt one, never a half-copied file (docs/decisions/051-crash-safe-store-rebuild.md).
/// </para>
/// </summary>
public sealed class StoreRebuild(LocalLogRawSource source, ReconcileReports reports, EmbeddedReconciliation reconciliation, TimeSpan horizon, TimeProvider time, FloodRule? flood = null)
{
    public const string TemporarySuffix = ".rebuild";

    /// <summary>
    /// Rebuilds <paramref name="emptyStore"/>, which must be empty and open (it holds DuckDB's lock on the file while the
    /// log is recounted); it is disposed before its file is replaced. <paramref name="options"/> are its options.
    /// </summary>
    public async Task<RebuildResult> RunAsync(DuckDbClickStore emptyStore, ClickStoreOptions options, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(emptyStore);
        ArgumentNullException.ThrowIfNull(options);
        if (!emptyStore.IsEmpty())
        {
            throw new InvalidOperationException("Rebuild fills an empty store only; this one already holds counts or positions.");
        }
        long started = time.GetTimestamp();
        var recount = await ClickRecount.RunAsync(source.ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, cancellationToken), from, to, horizon, flood ?? FloodRule.Off, cancellationToken).ConfigureAwait(false);
        var report = new ReconcileReport
        {
            From = from,
            To = to,
            Status = ReconcileStatus.Gaps,
            ReadFrom = DateTimeOffset.MinValue,
            ReadTo = DateTimeOffset.MaxValue,
        }.WithRecount(recount);
        if (recount.Gaps.Count > 0)
        {
            report = report with { Message = $"the store is empty and the log has {recount.Gaps.Count} sequence gaps; nothing rebuilt", DurationMs = time.GetElapsedTime(started).TotalMilliseconds };
            return Finish(RebuildOutcome.Gaps, report, null);
        }
        if (recount.FirstClick is { } first && recount.LastClick is { } last && (first < from || last >= to))
        {
            var suggestFrom = TimeBuckets.FloorToMinute(first);
            var suggestTo = TimeBuckets.FloorToMinute(last).AddMinutes(1);
            return new RebuildResult(RebuildOutcome.WindowTooNarrow, null, null, string.Create(CultureInfo.InvariantCulture,
                $"The store is empty (deleted or new), so reconcile rebuilds it, and a rebuild must cover the whole log: it holds clicks from {first:O} to {last:O}. Run: reconcile --from {suggestFrom:yyyy-MM-ddTHH:mm:ssZ} --to {suggestTo:yyyy-MM-ddTHH:mm:ssZ}"));
        }

        string temporary = options.Path + TemporarySuffix;
        DeleteWithWal(temporary); // a crashed earlier attempt
        using (var rebuilt = new DuckDbClickStore(new ClickStoreOptions { Path = temporary, MemoryLimit = options.MemoryLimit, Threads = options.Threads }))
        {
            var positions = recount.NextSequences.ToDictionary(p => int.Parse(p.Key, NumberStyles.None, CultureInfo.InvariantCulture), p => p.Value);
            var claims = recount.Claims.Select(c => new NewClaim(c.Key, c.Value)).ToList();
            rebuilt.Commit(new StoreBatch(recount.Buckets, claims, [], positions));
            // The rebuilt store is the recount of [from, to): its buckets there are final.
            rebuilt.RecordConfirmedWindow(from, to);
            rebuilt.Checkpoint();
        }
        if (File.Exists(temporary + ".wal"))
        {
            throw new InvalidOperationException($"The rebuilt store {temporary} still has a write-ahead log after its checkpoint; not replacing {options.Path}.");
        }
        using (var file = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            file.Flush(flushToDisk: true);
        }
        emptyStore.Dispose();
        DeleteWithWal(options.Path, keepFile: true); // an empty store's log holds nothing of value and must not replay onto the new file
        File.Move(temporary, options.Path, overwrite: true);
        LogSegments.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Path))!);

        report = report with
        {
            Status = ReconcileStatus.Corrected,
            Message = $"rebuilt an empty store from the whole log: {recount.Buckets.Count} minute buckets, {recount.Claims.Count} claims, consumer positions {string.Join(", ", recount.NextSequences.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value}"))}",
            KeysCompared = recount.Buckets.Count,
            KeysCorrected = recount.Buckets.Count,
            AbsoluteClickDifference = recount.Buckets.Values.Sum(b => b.Clicks),
            AbsoluteInvalidClickDifference = recount.Buckets.Values.Sum(b => b.InvalidClicks),
            DurationMs = time.GetElapsedTime(started).TotalMilliseconds,
        };
        return Finish(RebuildOutcome.Rebuilt, report, report.Message);
    }

    private RebuildResult Finish(RebuildOutcome outcome, ReconcileReport report, string? message)
    {
        string path = reports.Write(report);
        reconciliation.LogSummary(report);
        return new RebuildResult(outcome, report, path, message ?? report.Message);
    }

    private static void DeleteWithWal(string path, bool keepFile = false)
    {
        if (!keepFile)
        {
            File.Delete(path);
        }
        File.Delete(path + ".wal");
    }
}
