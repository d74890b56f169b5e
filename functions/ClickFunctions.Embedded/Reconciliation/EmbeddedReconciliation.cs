using ClickFunctions.Embedded.Retention;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Embedded.Reconciliation;

/// <summary>
/// One reconciliation run in the embedded shape: the core <see cref="Reconciler"/> over the local log and the DuckDB
/// store, then the JSON report in the data directory and a one-line summary in the log. Used by the host's
/// periodic run and by the <c>reconcile</c> command. With <paramref name="retained"/> (the host and the command wire
/// it) a window reaching before what retention kept is refused with its reason, a successful run moves the store's
/// <c>reconciled_through</c> mark, and the periodic run catches up from that mark after downtime. A window that ends
/// matched or corrected is recorded in the store (<paramref name="store"/>) as confirmed, so the query API reports its
/// buckets as final.
/// </summary>
public sealed partial class EmbeddedReconciliation(Reconciler reconciler, ReconcileReports reports, ILogger<EmbeddedReconciliation> logger, RetainedWindows? retained = null, Store.DuckDbClickStore? store = null)
{
    public Reconciler Reconciler => reconciler;

    public async Task<(ReconcileReport Report, string Path)> RunAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        Reconciler.ValidateWindow(from, to);
        ReconcileReport report;
        if (retained?.Refusal(from, to) is { } reason)
        {
            report = RetainedWindows.Refuse(from, to, reason);
        }
        else
        {
            report = await reconciler.ReconcileAsync(from, to, cancellationToken).ConfigureAwait(false);
            retained?.Record(report);
            if (report.Status is ReconcileStatus.Matched or ReconcileStatus.Corrected)
            {
                store?.RecordConfirmedWindow(report.From, report.To);
            }
        }
        string path = reports.Write(report);
        LogSummary(report);
        return (report, path);
    }

    public async Task<(ReconcileReport Report, string Path)> RunDueWindowAsync(CancellationToken cancellationToken)
    {
        var due = reconciler.DueWindow();
        var (from, to) = retained?.Next(due) ?? due;
        return await RunAsync(from, to, cancellationToken).ConfigureAwait(false);
    }

    public void LogSummary(ReconcileReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var level = report.Status switch
        {
            ReconcileStatus.Matched => LogLevel.Information,
            ReconcileStatus.Corrected or ReconcileStatus.Unsettled or ReconcileStatus.WindowOpen => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        Log.Summary(logger, level, report.From, report.To, report.Status, report.EventsRead, report.KeysCompared, report.KeysCorrected,
            report.AbsoluteClickDifference, report.AbsoluteInvalidClickDifference, report.Gaps.Count, report.DurationMs, report.Message ?? "");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Message = "Reconcile [{From:O}, {To:O}) {Status}: {EventsRead} events read, {KeysCompared} keys compared, {KeysCorrected} corrected, |Δclicks| {ClickDifference}, |Δinvalid| {InvalidDifference}, {Gaps} gaps, {DurationMs:F0} ms. {Message}")]
        public static partial void Summary(ILogger logger, LogLevel level, DateTimeOffset from, DateTimeOffset to, ReconcileStatus status, long eventsRead,
            int keysCompared, int keysCorrected, long clickDifference, long invalidDifference, int gaps, double durationMs, string message);
    }
}
