using System.Diagnostics.Metrics;
using ClickFunctions.Clicks;

namespace ClickFunctions.Azure;

/// <summary>
/// The Azure adapters' instruments on meter "ClickFunctions" (the same meter as <see cref="ClickMetrics"/>; the
/// workbook and alerts in infra/ use these names). reconcile.drift and reconcile.gaps are the core ReconcileMetrics.
/// </summary>
public sealed class AzureClickMetrics
{
    private readonly Histogram<double> _publishLatency;
    private readonly Counter<long> _publishFailures;
    private readonly Histogram<long> _publishBatchSize;
    private readonly Histogram<long> _aggregateBatchSize;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _invalid;
    private readonly Counter<long> _ingestionFailures;
    private readonly Histogram<double> _lag;

    public AzureClickMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(ClickMetrics.MeterName);
        _publishLatency = meter.CreateHistogram<double>("clicks.publish.latency", "ms", "From append to Event Hubs acknowledgement.");
        _publishFailures = meter.CreateCounter<long>("clicks.publish.failures", description: "Clicks whose Event Hubs send failed (no redirect was sent for them).");
        _publishBatchSize = meter.CreateHistogram<long>("clicks.publish.batch_size", description: "Clicks per Event Hubs send (group commit).");
        _aggregateBatchSize = meter.CreateHistogram<long>("aggregate.batch_size", description: "Events per AggregateClicks invocation.");
        _duplicates = meter.CreateCounter<long>("aggregate.duplicates", description: "Clicks whose id was already claimed by another event.");
        _invalid = meter.CreateCounter<long>("clicks.invalid", description: "Invalid clicks counted by the aggregator, by reason.");
        _ingestionFailures = meter.CreateCounter<long>("aggregate.ingestion.failures", description: "Bucket ingestions into ADX that failed (the batch is retried).");
        _lag = meter.CreateHistogram<double>("aggregate.lag", "s", "From Event Hubs enqueued time to aggregation.");
    }

    public void Published(int clicks, TimeSpan latency)
    {
        _publishBatchSize.Record(clicks);
        _publishLatency.Record(latency.TotalMilliseconds);
    }

    public void PublishFailed(int clicks) => _publishFailures.Add(clicks);

    public void AggregateBatch(int events) => _aggregateBatchSize.Record(events);

    public void Duplicates(int count) => _duplicates.Add(count);

    public void Invalid(ClickReason reason, long count) =>
        _invalid.Add(count, new KeyValuePair<string, object?>("reason", reason.Code()));

    public void IngestionFailed() => _ingestionFailures.Add(1);

    public void Lag(TimeSpan lag) => _lag.Record(lag.TotalSeconds);
}
