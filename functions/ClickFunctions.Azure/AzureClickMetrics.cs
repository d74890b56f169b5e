using System.Diagnostics.Metrics;
using ClickFunctions.Azure.Aggregation;
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
    private readonly Counter<long> _publishRetries;
    private readonly Histogram<long> _publishBatchSize;
    private readonly Histogram<long> _aggregateBatchSize;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _invalid;
    private readonly Counter<long> _ingestionFailures;
    private readonly Histogram<double> _lag;
    private readonly Histogram<long> _backlog;
    private readonly Counter<long> _aggregateFailures;
    private readonly Counter<long> _deadLetteredBatches;
    private readonly Counter<long> _deadLetteredEvents;
    private readonly Counter<long> _reportedIngestionFailures;

    public AzureClickMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(ClickMetrics.MeterName);
        _publishLatency = meter.CreateHistogram<double>("clicks.publish.latency", "ms", "From append to Event Hubs acknowledgement.");
        _publishFailures = meter.CreateCounter<long>("clicks.publish.failures", description: "Clicks whose Event Hubs send failed (no redirect was sent for them).");
        _publishRetries = meter.CreateCounter<long>("clicks.publish.retries", description: "Event Hubs sends retried after a transient error, by reason (server_busy: a throughput unit was exceeded).");
        _publishBatchSize = meter.CreateHistogram<long>("clicks.publish.batch_size", description: "Clicks per Event Hubs send (group commit).");
        _aggregateBatchSize = meter.CreateHistogram<long>("aggregate.batch_size", description: "Events per AggregateClicks invocation.");
        _duplicates = meter.CreateCounter<long>("aggregate.duplicates", description: "Clicks whose id was already claimed by another event.");
        _invalid = meter.CreateCounter<long>("clicks.invalid", description: "Invalid clicks counted by the aggregator, by reason.");
        _ingestionFailures = meter.CreateCounter<long>("aggregate.ingestion.failures", description: "Bucket ingestions into ADX that failed (the batch is retried).");
        // Milliseconds, like every duration here and like the alert's threshold (aggregatorLagThresholdMs in infra/);
        // tests/ClickFunctions.Infra.Tests MonitoringTests ties the two.
        _lag = meter.CreateHistogram<double>("aggregate.lag", LagUnit, "Age of the oldest event the aggregator has not consumed (from the checkpoint); recorded on every attempt, so a stalled partition shows.");
        _backlog = meter.CreateHistogram<long>("aggregate.backlog", "{event}", "Events enqueued in the partition after the aggregator's checkpoint (last enqueued sequence number minus the checkpoint's).");
        _aggregateFailures = meter.CreateCounter<long>("aggregate.failures", description: "Failed attempts at a batch, by kind (transient: retried with backoff; permanent: set aside soon).");
        _deadLetteredBatches = meter.CreateCounter<long>("aggregate.dead_letters", description: "Batches set aside in the dead-letter container after their bounded retries, by kind; the partition moved on.");
        _deadLetteredEvents = meter.CreateCounter<long>("aggregate.dead_letters.events", description: "Events in the batches set aside, by kind.");
        _reportedIngestionFailures = meter.CreateCounter<long>("aggregate.ingestion.reported_failures", description: "Failure reports read from ADX's failed-ingestions queue, by status (permanent, exhausted: set aside and counted in aggregate.dead_letters too; transient: the service retries; unreadable).");
    }

    public void Published(int clicks, TimeSpan latency)
    {
        _publishBatchSize.Record(clicks);
        _publishLatency.Record(latency.TotalMilliseconds);
    }

    public void PublishFailed(int clicks) => _publishFailures.Add(clicks);

    public void PublishRetried(string reason) => _publishRetries.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void AggregateBatch(int events) => _aggregateBatchSize.Record(events);

    public void Duplicates(int count) => _duplicates.Add(count);

    public void Invalid(ClickReason reason, long count) =>
        _invalid.Add(count, new KeyValuePair<string, object?>("reason", reason.Code()));

    public void IngestionFailed() => _ingestionFailures.Add(1);

    public const string LagMetric = "aggregate.lag";

    public const string LagUnit = "ms";

    public void Lag(TimeSpan lag) => _lag.Record(Math.Max(0, lag.TotalMilliseconds));

    public void Backlog(long events) => _backlog.Record(events);

    /// <summary>One partition's lag and backlog, as the timer-driven <see cref="EventHubs.PartitionLagMonitor"/> measures them (tagged with the partition).</summary>
    public void PartitionLag(string partition, TimeSpan lag, long backlog)
    {
        var tag = new KeyValuePair<string, object?>("partition", partition);
        _lag.Record(Math.Max(0, lag.TotalMilliseconds), tag);
        _backlog.Record(Math.Max(0, backlog), tag);
    }

    public void AggregateFailed(FailureKind kind) => _aggregateFailures.Add(1, Kind(kind));

    public void DeadLettered(FailureKind kind, int events)
    {
        _deadLetteredBatches.Add(1, Kind(kind));
        _deadLetteredEvents.Add(events, Kind(kind));
    }

    /// <summary>
    /// A queued ingestion the service failed for good (status permanent, exhausted or unknown): one batch set aside,
    /// in the metric the dead-lettered-batches alert watches, with reason ingestion_&lt;status&gt;.
    /// </summary>
    public void IngestionDeadLettered(string status)
    {
        _deadLetteredBatches.Add(1, new KeyValuePair<string, object?>("reason", "ingestion_" + status));
        IngestionFailureReported(status);
    }

    public void IngestionFailureReported(string status) => _reportedIngestionFailures.Add(1, new KeyValuePair<string, object?>("status", status));

    private static KeyValuePair<string, object?> Kind(FailureKind kind) => new("reason", kind == FailureKind.Permanent ? "permanent" : "transient");
}
