using Azure.Messaging.EventHubs;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure;
using ClickFunctions.Azure.DeadLetters;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Azure.Aggregation;

/// <summary>
/// What AggregateClicks does with one batch: the core aggregation step (claims in Table Storage), dead letters to
/// Blob, bucket rows with deterministic ids to ADX. Any failure throws, so the trigger's retry policy runs the whole
/// batch again; claims recognise their own event on the retry and ADX's dedup view collapses the rows written twice.
/// </summary>
public sealed partial class ClickAggregator(
    AggregationStep step,
    IBucketSink buckets,
    BlobDeadLetterWriter deadLetters,
    AzureClickMetrics metrics,
    TimeProvider time,
    ILogger<ClickAggregator> logger)
{
    public Task AggregateAsync(IReadOnlyList<EventData> events, string partition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var batch = new RawEvent[events.Count];
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            batch[i] = new RawEvent(partition, e.SequenceNumber, e.EnqueuedTime, e.EventBody.ToMemory());
        }
        return AggregateAsync(batch, cancellationToken);
    }

    public async Task AggregateAsync(IReadOnlyList<RawEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }
        metrics.AggregateBatch(batch.Count);
        var result = await step.AggregateAsync(batch, cancellationToken).ConfigureAwait(false);
        string batchId = BucketRows.BatchId(batch[0].Partition, batch.Min(e => e.SequenceNumber), batch.Max(e => e.SequenceNumber));
        await deadLetters.WriteAsync(batchId, result.DeadLetters, cancellationToken).ConfigureAwait(false);
        try
        {
            await buckets.WriteAsync(batchId, result.Buckets, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.IngestionFailed();
            Log.IngestionFailed(logger, batchId, result.Buckets.Count, ex);
            throw;
        }
        metrics.Duplicates(result.Duplicates);
        foreach (var reason in ClickReasons.All)
        {
            if (reason == ClickReason.Valid)
            {
                continue;
            }
            long count = result.Buckets.Values.Sum(c => c.InvalidByReason[(int)reason]);
            if (count > 0)
            {
                metrics.Invalid(reason, count);
            }
        }
        metrics.Lag(time.GetUtcNow() - batch.Max(e => e.EnqueuedTime));
        Log.Aggregated(logger, batchId, batch.Count, result.Buckets.Count, result.Duplicates, result.Redelivered, result.DeadLetters.Count);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Writing {Buckets} buckets of batch {BatchId} to ADX failed; the batch will be retried")]
        public static partial void IngestionFailed(ILogger logger, string batchId, int buckets, Exception exception);

        [LoggerMessage(2, LogLevel.Information, "Batch {BatchId}: {Events} events, {Buckets} buckets, {Duplicates} duplicates, {Redelivered} redelivered, {DeadLetters} dead letters")]
        public static partial void Aggregated(ILogger logger, string batchId, int events, int buckets, int duplicates, int redelivered, int deadLetters);
    }
}
