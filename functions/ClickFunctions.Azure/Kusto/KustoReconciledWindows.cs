using System.Text.Json;
using ClickFunctions.Queries;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Azure.Kusto;

/// <summary>
/// The windows the reconciler confirmed, in ADX's <c>ReconciledWindows</c> table (infra/kusto/01-tables.kql; decision
/// 095): the Azure counterpart of the embedded store's <c>reconciled_windows</c>. A window is recorded after its run
/// matched or its corrections were accepted, by the same streaming ingestion request the bucket rows take; a re-run
/// of the window adds a row with the same bounds, which <see cref="ReadAsync"/> and <see cref="AdClicksPlan"/> merge, so
/// recording is idempotent in effect. The query API reads them with ReconciledWindows.kql, bounded to the range asked.
/// </summary>
public sealed class KustoReconciledWindows(KustoClient kusto, TimeProvider? time = null)
{
    public const string Table = "ReconciledWindows";
    public const string Mapping = "ReconciledWindowsJson";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Whether a run that ended with <paramref name="status"/> confirmed its window (its buckets are final).</summary>
    public static bool Confirms(ReconcileStatus status) => status is ReconcileStatus.Matched or ReconcileStatus.Corrected;

    /// <summary>Records the window of <paramref name="report"/> when the run confirmed it; does nothing otherwise.</summary>
    public async Task<bool> RecordAsync(ReconcileReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!Confirms(report.Status) || report.From >= report.To)
        {
            return false;
        }
        var row = new ReconciledWindowRow(report.From, report.To, report.Status.ToString(), _time.GetUtcNow());
        byte[] line = JsonSerializer.SerializeToUtf8Bytes(row, KustoJsonContext.Default.ReconciledWindowRow);
        byte[] payload = [.. line, (byte)'\n'];
        await kusto.IngestStreamingAsync(Table, Mapping, payload, 1, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The confirmed windows overlapping <paramref name="range"/>, merged, and the latest confirmed window (its end is <c>finalThrough</c>).</summary>
    public async Task<List<TimeRange>> ReadAsync(TimeRange range, CancellationToken cancellationToken)
    {
        var table = await kusto.QueryAsync(KustoQueries.Load("ReconciledWindows"), new Dictionary<string, KustoParameter>(StringComparer.Ordinal)
        {
            ["fromTime"] = KustoParameter.Time(range.From),
            ["toTime"] = KustoParameter.Time(range.To),
        }, cancellationToken).ConfigureAwait(false);
        int from = table.Ordinal("WindowFrom"), to = table.Ordinal("WindowTo");
        var windows = new List<TimeRange>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            if (KustoTable.GetDateTime(row[from]) is { } start && KustoTable.GetDateTime(row[to]) is { } end)
            {
                windows.Add(new TimeRange(start, end));
            }
        }
        return AdClicksPlan.Merge(windows);
    }
}
