using Azure.Messaging.EventHubs;
using ClickFunctions.Azure.Aggregation;
using ClickFunctions.Azure.EventHubs;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// Event Hubs trigger, batched: claims, per-minute buckets, ADX ingestion. The aggregator retries a failing batch
/// itself, a bounded number of times, then sets it aside in the dead-letter container and returns, so the trigger
/// checkpoints and the partition moves on (docs/decisions/066-bounded-retries-and-dead-lettered-batches.md). The
/// trigger's retry policy is bounded too: it only runs when even the dead-letter write failed (Blob unavailable);
/// after it, the trigger checkpoints anyway and reconciliation against Capture recounts the batch.
/// Malformed events are dead-lettered by the core, never retried.
/// </summary>
public sealed class AggregateClicks(ClickAggregator aggregator)
{
    [Function(nameof(AggregateClicks))]
    [ExponentialBackoffRetry(5, "00:00:05", "00:02:00")]
    public Task RunAsync(
        [EventHubTrigger("%EVENTHUB_NAME%", Connection = "EventHubs", ConsumerGroup = "%EVENTHUB_CONSUMER_GROUP%", IsBatched = true)] EventData[] events,
        FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return aggregator.AggregateAsync(events, TriggerMetadata.PartitionId(context.BindingContext.BindingData), context.CancellationToken);
    }
}
