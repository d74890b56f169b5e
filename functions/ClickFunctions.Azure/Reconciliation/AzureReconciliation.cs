using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Reconciliation;

/// <summary>Section <c>Reconcile</c>, the Azure part: where run reports go (the rest is the core <see cref="ReconcileOptions"/>).</summary>
public sealed class ReconcileReportOptions
{
    [Required]
    public string ReportContainer { get; set; } = "reconciliation";

    /// <summary>
    /// How old a recorded checkpoint must be before the reconciler trusts it (<see cref="SettledPositions"/>): longer
    /// than a queued ingestion takes to land (batching 30 s plus the service's delay; decision 063). Also how long a
    /// window whose corrections went queued waits before it is run again to confirm them (decision 095).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "06:00:00")]
    public TimeSpan IngestionSettle { get; set; } = SettledPositions.DefaultSettle;
}

/// <summary>
/// ReconcileClicks' work: the core <see cref="Reconciler"/> over the newest closed window, reading Capture blobs
/// and ADX, correcting ADX; the JSON report goes to Blob Storage, the summary to the log, the figures to metrics.
/// Gaps or unreadable raw data make the run fail (so the timer's failure is visible), after the report is written.
/// A window is recorded in ADX as confirmed (<see cref="KustoReconciledWindows"/>, decision 095), so the query API
/// reports its buckets as final, only once its corrections are visible there: when its run matched, or corrected
/// by streaming ingestion (visible when the request returns). A run whose corrections went queued records nothing;
/// its window is pending (<see cref="PendingWindows"/>) and is run again once <see cref="ReconcileReportOptions.IngestionSettle"/>
/// has passed, before the due window. That run compares ADX with the same recount: if the queued rows landed it
/// matches and records the window; if not, it writes the same corrections with the same row ids
/// (<see cref="Reconciler.RowId"/> hashes window, key, stored and recounted counts), which the dedup view keeps once
/// when both copies land. A window overlapping a pending window whose corrections may still be queued is not compared
/// with ADX (its stored counts may lack them, and a correction under another window's row id would count twice): it
/// is deferred, pending too, until that window is confirmed. An unsettled, open, failed or refused window is not recorded.
/// </summary>
public sealed partial class AzureReconciliation(
    Reconciler reconciler,
    BlobServiceClient blobs,
    IOptions<ReconcileReportOptions> options,
    KustoReconciledWindows confirmedWindows,
    KustoBucketCorrections corrections,
    TimeProvider time,
    ILogger<AzureReconciliation> logger)
{
    /// <summary>
    /// How long a window stays pending before it is given up (logged, left not final). Within it, a repeated
    /// correction and the queued one it repeats both fall inside the dedup view's one-day lookback
    /// (infra/kusto/02-views.kql), so the view still keeps one of them.
    /// </summary>
    public static readonly TimeSpan PendingLifetime = TimeSpan.FromHours(12);

    public async Task<ReconcileReport> RunDueWindowAsync(CancellationToken cancellationToken)
    {
        var store = new PendingWindows(blobs.GetBlobContainerClient(options.Value.ReportContainer));
        var pending = await store.LoadAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        foreach (var stale in pending.Where(p => now - p.Since > PendingLifetime).ToList())
        {
            Log.GivenUp(logger, stale.From, stale.To, stale.Since);
            pending.Remove(stale);
        }

        // Runs one window, tracked: while it runs it is pending as if its corrections were queued now, so a run that
        // dies after queueing some (nothing recorded) still holds back overlapping windows and is re-run after the settle time.
        async Task<ReconcileReport> RunTrackedAsync(DateTimeOffset from, DateTimeOffset to, PendingWindow? before)
        {
            pending.RemoveAll(p => p.SameWindow(from, to));
            pending.Add(new PendingWindow(from, to, before?.Since ?? now, now));
            await store.SaveAsync(pending, cancellationToken).ConfigureAwait(false);
            var (report, queued) = await RunWindowAsync(from, to, cancellationToken).ConfigureAwait(false);
            pending.RemoveAll(p => p.SameWindow(from, to));
            if (Pending(report, queued, before, now) is { } still)
            {
                pending.Add(still);
            }
            return report;
        }

        // Pending windows first, oldest first: a confirmed one may unblock a deferred one after it in the same pass.
        foreach (var window in pending.OrderBy(p => p.From).ToList())
        {
            if ((window.QueuedAt is { } queuedAt && now - queuedAt < options.Value.IngestionSettle) || Blocking(pending, window.From, window.To) is not null)
            {
                continue;
            }
            await RunTrackedAsync(window.From, window.To, window).ConfigureAwait(false);
        }

        var (dueFrom, dueTo) = reconciler.DueWindow();
        ReconcileReport due;
        if ((Blocking(pending, dueFrom, dueTo) ?? pending.Find(p => p.SameWindow(dueFrom, dueTo) && p.QueuedAt is not null)) is { } blocker)
        {
            due = new ReconcileReport
            {
                From = dueFrom,
                To = dueTo,
                Status = ReconcileStatus.Unsettled,
                Message = string.Create(CultureInfo.InvariantCulture,
                    $"deferred: the window overlaps [{blocker.From:O}, {blocker.To:O}), whose corrections were queued at {blocker.QueuedAt:O} and are not yet seen in ADX; it runs once they are"),
            };
            Log.Deferred(logger, dueFrom, dueTo, blocker.From, blocker.To);
            if (!pending.Exists(p => p.SameWindow(dueFrom, dueTo)))
            {
                pending.Add(new PendingWindow(dueFrom, dueTo, now, null));
            }
        }
        else
        {
            due = await RunTrackedAsync(dueFrom, dueTo, pending.Find(p => p.SameWindow(dueFrom, dueTo))).ConfigureAwait(false);
        }
        await store.SaveAsync(pending, cancellationToken).ConfigureAwait(false);
        if (due.Status is ReconcileStatus.Gaps or ReconcileStatus.Unreadable)
        {
            throw new InvalidOperationException($"Reconciliation of [{dueFrom:O}, {dueTo:O}) did not run: {due.Message}");
        }
        return due;
    }

    /// <summary>
    /// Reconciles one window, writes its report and records it as confirmed when its corrections are visible; answers
    /// the report and how many correction rows went queued (then nothing is recorded).
    /// </summary>
    private async Task<(ReconcileReport Report, int Queued)> RunWindowAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        corrections.TakeQueued(from, to); // nothing left over from a failed earlier run of the window
        var report = await reconciler.ReconcileAsync(from, to, cancellationToken).ConfigureAwait(false);
        int queued = report.Status == ReconcileStatus.Corrected ? corrections.TakeQueued(from, to) : 0;
        if (queued > 0)
        {
            report = report with
            {
                Message = string.Create(CultureInfo.InvariantCulture,
                    $"{queued} correction rows went queued: the window is not final until a run after Reconcile:IngestionSettle ({options.Value.IngestionSettle}) sees them in ADX"),
            };
        }
        await WriteReportAsync(report, cancellationToken).ConfigureAwait(false);
        Log.Summary(logger, report.Status.ToString(), from, to, report.EventsRead, report.KeysCompared, report.KeysCorrected, report.AbsoluteClickDifference, report.Gaps.Count);
        if (queued > 0)
        {
            Log.NotYetFinal(logger, from, to, queued, options.Value.IngestionSettle);
            return (report, queued);
        }
        // Only after the corrections were accepted and are visible (streamed, or none): a failure here fails the run,
        // and the window's buckets stay not final until a later run over them confirms them.
        await confirmedWindows.RecordAsync(report, cancellationToken).ConfigureAwait(false);
        return (report, 0);
    }

    /// <summary>What stays pending after a run of a window: its queued corrections, or what was pending before when the run confirmed nothing.</summary>
    private static PendingWindow? Pending(ReconcileReport report, int queued, PendingWindow? before, DateTimeOffset now)
    {
        if (queued > 0)
        {
            return new PendingWindow(report.From, report.To, before?.Since ?? now, now);
        }
        // Matched or streamed corrections: recorded. Otherwise nothing was written; a window with queued corrections
        // (or a deferred one) stays as it was, any other is left to the runs over it, as before.
        return KustoReconciledWindows.Confirms(report.Status) ? null : before;
    }

    /// <summary>A pending window other than [from, to) that overlaps it and whose corrections may still be queued.</summary>
    private static PendingWindow? Blocking(List<PendingWindow> pending, DateTimeOffset from, DateTimeOffset to) =>
        pending.FirstOrDefault(p => p.QueuedAt is not null && !p.SameWindow(from, to) && p.Overlaps(from, to));

    private async Task WriteReportAsync(ReconcileReport report, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(options.Value.ReportContainer);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        string name = string.Create(CultureInfo.InvariantCulture, $"{report.From:yyyy/MM/dd/HHmm}-{report.To:HHmm}.json");
        var json = JsonSerializer.SerializeToUtf8Bytes(report, ReconcileJson.Default.ReconcileReport);
        await container.GetBlobClient(name).UploadAsync(new BinaryData(json), overwrite: true, cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Reconcile {Status} [{From}, {To}): {Events} events read, {Compared} keys compared, {Corrected} corrected, click difference {Difference}, {Gaps} gaps")]
        public static partial void Summary(ILogger logger, string status, DateTimeOffset from, DateTimeOffset to, long events, int compared, int corrected, long difference, int gaps);

        [LoggerMessage(2, LogLevel.Information, "Reconcile [{From}, {To}): {Rows} correction rows went queued; the window is recorded as final once a run after {Settle} sees them")]
        public static partial void NotYetFinal(ILogger logger, DateTimeOffset from, DateTimeOffset to, int rows, TimeSpan settle);

        [LoggerMessage(3, LogLevel.Information, "Reconcile [{From}, {To}) deferred: it overlaps [{PendingFrom}, {PendingTo}), whose queued corrections are not yet seen")]
        public static partial void Deferred(ILogger logger, DateTimeOffset from, DateTimeOffset to, DateTimeOffset pendingFrom, DateTimeOffset pendingTo);

        [LoggerMessage(4, LogLevel.Warning, "Reconcile [{From}, {To}) pending since {Since} was never confirmed; given up, its buckets stay not final")]
        public static partial void GivenUp(ILogger logger, DateTimeOffset from, DateTimeOffset to, DateTimeOffset since);
    }
}
