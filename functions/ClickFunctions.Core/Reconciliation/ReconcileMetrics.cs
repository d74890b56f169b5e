using System.Diagnostics.Metrics;

namespace ClickFunctions.Reconciliation;

/// <summary>
/// Reconciliation metrics on the <see cref="ClickMetrics.MeterName"/> meter; the workbook and the drift alert in
/// infra/ read <c>reconcile.drift</c> and <c>reconcile.gaps</c>.
/// </summary>
public sealed class ReconcileMetrics
{
    private readonly Counter<long> _drift;
    private readonly Counter<long> _gaps;
    private readonly Counter<long> _runs;

    public ReconcileMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(ClickMetrics.MeterName);
        _drift = meter.CreateCounter<long>("reconcile.drift", description: "Absolute click difference corrected by reconciliation.");
        _gaps = meter.CreateCounter<long>("reconcile.gaps", description: "Sequence-number gaps found in the raw files.");
        _runs = meter.CreateCounter<long>("reconcile.runs", description: "Reconciliation runs, by status.");
    }

    public void Record(ReconcileReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _runs.Add(1, new KeyValuePair<string, object?>("status", report.Status.ToString()));
        _drift.Add(report.AbsoluteClickDifference, new KeyValuePair<string, object?>("kind", "valid"));
        _drift.Add(report.AbsoluteInvalidClickDifference, new KeyValuePair<string, object?>("kind", "invalid"));
        _gaps.Add(report.Gaps.Count);
    }
}
