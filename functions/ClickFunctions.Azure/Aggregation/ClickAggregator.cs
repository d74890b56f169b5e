using Azure.Messaging.EventHubs;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure;
using ClickFunctions.Azure.DeadLetters;
using ClickFunctions.Azure.EventHubs;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Azure.Aggregation;

/// <summary>
/// What AggregateClicks does with one batch: the core aggregation step (claims in Table Storage), dead letters to
/// Blob, bucket rows with deterministic ids to ADX. A failure is retried here, with backoff, a bounded number of
/// times (<see cref="AggregationRetryOptions"/>): claims recognise their own event on the retry and ADX's dedup view
/// collapses rows written twice. A batch that still fails (at once for a permanent error such as 403 or a bad
/// mapping, after longer for a transient one) is written whole to the dead-letter container with its reason and
/// counted in <c>aggregate.dead_letters</c>, and the partition moves on: a poisoned batch never stalls it. While a
/// batch is retried, <c>aggregate.lag</c> keeps being recorded from the checkpoint (the batch's first event), so a
/// stall shows in the metric and its alert.
/// </summary>
public sealed partial class ClickAggregator(
    AggregationStep step,
    IBucketSink buckets,
    BlobDeadLetterWriter deadLetters,
    AzureClickMetrics metrics,
    TimeProvider time,
    ILogger<ClickAggregator> logger,
    AggregationRetryOptions? retry = null,
    PartitionBacklog? backlog = null)
{
    private readonly AggregationRetryOptions _retry = retry ?? new AggregationRetryOptions();

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
        string batchId = BucketRows.BatchId(batch[0].Partition, batch.Min(e => e.SequenceNumber), batch.Max(e => e.SequenceNumber));
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await AggregateOnceAsync(batch, batchId, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var kind = FailureKinds.Of(ex);
                int allowed = kind == FailureKind.Permanent ? _retry.PermanentAttempts : _retry.TransientAttempts;
                metrics.AggregateFailed(kind);
                // The trigger checkpointed just before this batch: its first event is the oldest one not consumed.
                await RecordLagAsync(batch, consumedUpTo: null, cancellationToken).ConfigureAwait(false);
                if (attempt >= allowed)
                {
                    await SetAsideAsync(batch, batchId, kind, attempt, ex, cancellationToken).ConfigureAwait(false);
                    break;
                }
                var delay = Backoff(attempt);
                Log.Retrying(logger, batchId, kind, attempt, allowed, delay, ex);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
        await RecordLagAsync(batch, consumedUpTo: batch.MaxBy(e => e.SequenceNumber), cancellationToken).ConfigureAwait(false);
    }

    private async Task AggregateOnceAsync(IReadOnlyList<RawEvent> batch, string batchId, CancellationToken cancellationToken)
    {
        // Disposed when this attempt is done (stored, or failed): the buckets go back to the step (decision 102).
        using var result = await step.AggregateAsync(batch, cancellationToken).ConfigureAwait(false);
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
        Log.Aggregated(logger, batchId, batch.Count, result.Buckets.Count, result.Duplicates, result.Redelivered, result.DeadLetters.Count);
    }

    private async Task SetAsideAsync(IReadOnlyList<RawEvent> batch, string batchId, FailureKind kind, int attempts, Exception ex, CancellationToken cancellationToken)
    {
        string reason = $"{(kind == FailureKind.Permanent ? "permanent" : "transient_exhausted")} after {attempts} attempts: {ex.GetType().Name}: {ex.Message}";
        // If even this fails, the exception goes to the trigger, whose own (bounded) retry policy runs the batch again.
        await deadLetters.WriteFailedBatchAsync(batchId, batch, reason, cancellationToken).ConfigureAwait(false);
        metrics.DeadLettered(kind, batch.Count);
        Log.SetAside(logger, batchId, batch.Count, attempts, reason, ex);
    }

    /// <summary>
    /// Lag from the checkpoint against the partition's last enqueued event. consumedUpTo null: nothing of this batch
    /// is consumed yet, so the oldest unconsumed event is its first; else the batch is done and the backlog is what was
    /// enqueued after consumedUpTo.
    /// </summary>
    private async Task RecordLagAsync(IReadOnlyList<RawEvent> batch, RawEvent? consumedUpTo, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        LastEnqueued? last = null;
        if (backlog is not null)
        {
            try
            {
                last = await backlog.LastEnqueuedAsync(batch[0].Partition, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
        if (consumedUpTo is null)
        {
            var oldest = batch.MinBy(e => e.SequenceNumber)!;
            metrics.Lag(now - oldest.EnqueuedTime);
            if (last is { } l)
            {
                metrics.Backlog(Math.Max(0, l.SequenceNumber - oldest.SequenceNumber + 1));
            }
            return;
        }
        long behind = last is { } newest ? Math.Max(0, newest.SequenceNumber - consumedUpTo.SequenceNumber) : 0;
        // Without the service's figure, fall back to the age of what was just consumed (the lag before this batch).
        metrics.Lag(last is null || behind > 0 ? now - consumedUpTo.EnqueuedTime : TimeSpan.Zero);
        if (last is not null)
        {
            metrics.Backlog(behind);
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        double ceiling = Math.Min(_retry.MaxBackoff.TotalMilliseconds, _retry.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Writing {Buckets} buckets of batch {BatchId} to ADX failed")]
        public static partial void IngestionFailed(ILogger logger, string batchId, int buckets, Exception exception);

        [LoggerMessage(2, LogLevel.Information, "Batch {BatchId}: {Events} events, {Buckets} buckets, {Duplicates} duplicates, {Redelivered} redelivered, {DeadLetters} dead letters")]
        public static partial void Aggregated(ILogger logger, string batchId, int events, int buckets, int duplicates, int redelivered, int deadLetters);

        [LoggerMessage(3, LogLevel.Warning, "Batch {BatchId} failed ({Kind}), attempt {Attempt} of {Allowed}; retrying in {Delay}")]
        public static partial void Retrying(ILogger logger, string batchId, FailureKind kind, int attempt, int allowed, TimeSpan delay, Exception exception);

        [LoggerMessage(4, LogLevel.Error, "Batch {BatchId} ({Events} events) set aside in the dead-letter container after {Attempts} attempts: {Reason}; the partition moves on")]
        public static partial void SetAside(ILogger logger, string batchId, int events, int attempts, string reason, Exception exception);
    }
}
