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
    /// than a queued ingestion takes to land (batching 30 s plus the service's delay; decision 063).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "06:00:00")]
    public TimeSpan IngestionSettle { get; set; } = SettledPositions.DefaultSettle;
}

/// <summary>
/// ReconcileClicks' work: the core <see cref="Reconciler"/> over the newest closed window, reading Capture blobs
/// and ADX, correcting ADX; the JSON report goes to Blob Storage, the summary to the log, the figures to metrics.
/// Gaps or unreadable raw data make the run fail (so the timer's failure is visible), after the report is written.
/// A window the run matched or corrected is then recorded in ADX as confirmed (<see cref="KustoReconciledWindows"/>,
/// decision 095), so the query API reports its buckets as final; an unsettled, open, failed or refused window is not.
/// </summary>
public sealed partial class AzureReconciliation(
    Reconciler reconciler,
    BlobServiceClient blobs,
    IOptions<ReconcileReportOptions> options,
    KustoReconciledWindows confirmedWindows,
    ILogger<AzureReconciliation> logger)
{
    public async Task<ReconcileReport> RunDueWindowAsync(CancellationToken cancellationToken)
    {
        var (from, to) = reconciler.DueWindow();
        var report = await reconciler.ReconcileAsync(from, to, cancellationToken).ConfigureAwait(false);
        await WriteReportAsync(report, cancellationToken).ConfigureAwait(false);
        Log.Summary(logger, report.Status.ToString(), from, to, report.EventsRead, report.KeysCompared, report.KeysCorrected, report.AbsoluteClickDifference, report.Gaps.Count);
        // Only after the corrections were accepted (ReconcileAsync returned): a failure here fails the run, and the
        // window's buckets stay not final until a later run over them confirms them.
        await confirmedWindows.RecordAsync(report, cancellationToken).ConfigureAwait(false);
        if (report.Status is ReconcileStatus.Gaps or ReconcileStatus.Unreadable)
        {
            throw new InvalidOperationException($"Reconciliation of [{from:O}, {to:O}) did not run: {report.Message}");
        }
        return report;
    }

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
    }
}
