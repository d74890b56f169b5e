using Azure.Messaging.EventHubs;
using ClickFunctions.Azure.Aggregation;
using ClickFunctions.Azure.EventHubs;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// Event Hubs trigger, batched: claims, per-minute buckets, ADX ingestion. The trigger checkpoints even when a
/// function throws, so a failing batch must be retried here: the retry policy re-runs it (indefinitely, with
/// backoff) until claims and ingestion succeed. Malformed events are dead-lettered by the core, never retried.
/// </summary>
public sealed class AggregateClicks(ClickAggregator aggregator)
{
    [Function(nameof(AggregateClicks))]
    [ExponentialBackoffRetry(-1, "00:00:01", "00:02:00")]
    public Task RunAsync(
        [EventHubTrigger("%EVENTHUB_NAME%", Connection = "EventHubs", ConsumerGroup = "%EVENTHUB_CONSUMER_GROUP%", IsBatched = true)] EventData[] events,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return aggregator.AggregateAsync(events, TriggerMetadata.PartitionId(context.BindingContext.BindingData), context.CancellationToken);
    }
}
