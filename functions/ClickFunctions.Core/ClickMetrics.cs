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
    private readonly Counter<long> _counted;

    public ClickMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        // No reason tag: at capture a click is not yet known to be a duplicate, so a "valid" here would count clicks
        // that aggregation then counts as duplicates. What was counted, by reason, is clicks.counted.
        _recorded = Meter.CreateCounter<long>("clicks.recorded", description: "Clicks made durable (each answered 302), before aggregation and dedup.");
        _rejected = Meter.CreateCounter<long>("clicks.rejected", description: "Click requests refused before recording (bad, expired or missing signature).");
        _counted = Meter.CreateCounter<long>("clicks.counted", description: "Clicks as aggregation committed them, by reason: valid (the query API's clicks) or why invalid, duplicate included.");
    }

    public Meter Meter { get; }

    public void Recorded() => _recorded.Add(1);

    /// <summary>After a transaction of buckets is committed: exactly what the store added, by reason.</summary>
    public void Counted(IEnumerable<Aggregation.BucketCounts> buckets)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        long valid = 0;
        var invalid = new long[Aggregation.BucketCounts.ReasonSlots];
        foreach (var bucket in buckets)
        {
            valid += bucket.Clicks;
            for (int i = 0; i < invalid.Length; i++)
            {
                invalid[i] += bucket.InvalidByReason[i];
            }
        }
        if (valid > 0)
        {
            _counted.Add(valid, new KeyValuePair<string, object?>("reason", ClickReason.Valid.Code()));
        }
        for (int i = 0; i < invalid.Length; i++)
        {
            if (invalid[i] > 0)
            {
                _counted.Add(invalid[i], new KeyValuePair<string, object?>("reason", ((ClickReason)i).Code()));
            }
        }
    }

    public void Rejected(VerificationStatus status) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", status.Code()));
}
