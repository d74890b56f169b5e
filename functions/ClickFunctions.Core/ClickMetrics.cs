using System.Diagnostics.Metrics;
using ClickFunctions.Clicks;
using ClickFunctions.Signing;

namespace ClickFunctions;

/// <summary>
/// The custom metrics both hosts emit (meter "ClickFunctions"); the workbook and alerts in infra/ use these names.
/// </summary>
public sealed class ClickMetrics
{
    public const string MeterName = "ClickFunctions";

    private readonly Counter<long> _recorded;
    private readonly Counter<long> _rejected;

    public ClickMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _recorded = Meter.CreateCounter<long>("clicks.recorded", description: "Clicks made durable, by reason (valid or why not).");
        _rejected = Meter.CreateCounter<long>("clicks.rejected", description: "Click requests refused before recording (bad, expired or missing signature).");
    }

    public Meter Meter { get; }

    public void Recorded(ClickReason reason) => _recorded.Add(1, new KeyValuePair<string, object?>("reason", reason.Code()));

    public void Rejected(VerificationStatus status) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", status.Code()));
}
