using ClickFunctions.Aggregation;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Embedded.Consumer;

/// <summary>
/// Tails every partition of the local log from the positions stored in the click store, runs the aggregation step,
/// and commits buckets, claims, dead letters and the new positions in one transaction. It sleeps on the log's
/// commit signal, never on a timer, so a click is queryable a few milliseconds after its fsync. After a crash it
/// resumes from the last committed positions: what was aggregated is never aggregated again, and nothing is skipped.
/// </summary>
public sealed partial class ClickConsumer(
    LocalClickLog log,
    DuckDbClickStore store,
    EmbeddedClaimStore claims,
    AggregationStep step,
    IOptions<ClickConsumerOptions> options,
    TimeProvider time,
    ILogger<ClickConsumer> logger,
    ClickMetrics? metrics = null) : BackgroundService
{
    private readonly ClickConsumerOptions _options = options.Value;
    private readonly StoreThread _storeThread = new(options.Value.StoreThreadNice);
    private bool _claimsLoaded;

    public override void Dispose()
    {
        base.Dispose();
        _storeThread.Dispose();
    }

    /// <summary>Batches committed since start (diagnostics and tests).</summary>
    public long CommittedBatches { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Nothing of the failed step was committed: resume from the stored positions after a pause.
                Log.StepFailed(logger, e, _options.RetryDelay);
                await Task.Delay(_options.RetryDelay, time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        claims.DiscardPending();
        if (!_claimsLoaded)
        {
            var loaded = store.LoadClaims(time.GetUtcNow() - claims.Horizon);
            claims.Load(loaded);
            _claimsLoaded = true;
            Log.ClaimsLoaded(logger, loaded.Count);
        }
        var stored = store.LoadPositions();
        var partitions = log.Partitions;
        var readers = new LogPartitionReader[partitions.Count];
        try
        {
            for (int i = 0; i < readers.Length; i++)
            {
                readers[i] = LogPartitionReader.Live(partitions[i], stored.GetValueOrDefault(partitions[i].Id));
            }
            Log.Resuming(logger, string.Join(", ", readers.Select((r, i) => $"{partitions[i].Id}:{r.NextSequence}")));
            var batch = new List<RawEvent>(_options.MaxBatchEvents);
            int perPartition = Math.Max(1, _options.MaxBatchEvents / readers.Length);
            var nextPurge = time.GetUtcNow();
            long lastStepStarted = 0;
            var lastStepTook = TimeSpan.Zero;
            bool lastBatchFull = true;
            int lastBatchCount = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var sinceLastStep = time.GetElapsedTime(lastStepStarted);
                var spacing = StepSpacing(_options, lastBatchCount, lastStepTook);
                if (!lastBatchFull && sinceLastStep < spacing)
                {
                    await Task.Delay(spacing - sinceLastStep, time, cancellationToken).ConfigureAwait(false);
                }
                batch.Clear();
                foreach (var reader in readers)
                {
                    reader.Read(batch, perPartition);
                }
                if (batch.Count == 0)
                {
                    await WaitForAnyCommitAsync(readers, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                lastBatchCount = batch.Count;
                lastStepStarted = time.GetTimestamp();
                lastBatchFull = batch.Count >= _options.MaxBatchEvents;
                var positions = new Dictionary<int, long>(readers.Length);
                for (int i = 0; i < readers.Length; i++)
                {
                    positions[partitions[i].Id] = readers[i].NextSequence;
                }
                var result = await _storeThread.RunAsync(() =>
                {
                    // The embedded claim store answers synchronously: the step completes on this thread.
                    var result = step.AggregateAsync(batch, cancellationToken).AsTask().GetAwaiter().GetResult();
                    try
                    {
                        store.Commit(new StoreBatch(result.Buckets, claims.Pending, result.DeadLetters, positions));
                    }
                    catch
                    {
                        claims.DiscardPending();
                        throw;
                    }
                    return result;
                }).ConfigureAwait(false);
                lastStepTook = time.GetElapsedTime(lastStepStarted);
                claims.CommitPending();
                CommittedBatches++;
                metrics?.Counted(result.Buckets.Values);
                if (result.DeadLetters.Count > 0)
                {
                    Log.DeadLettered(logger, result.DeadLetters.Count, result.DeadLetters[0].Reason);
                }
                result.Dispose(); // stored and counted: the buckets go back to the step for the next batch (decision 102)
                var now = time.GetUtcNow();
                if (now >= nextPurge)
                {
                    var cutoff = now - claims.Horizon;
                    long deleted = store.PurgeClaims(cutoff);
                    claims.Purge(cutoff);
                    nextPurge = now + _options.ClaimPurgeInterval;
                    if (deleted > 0)
                    {
                        Log.ClaimsPurged(logger, deleted);
                    }
                }
            }
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader?.Dispose();
            }
        }
    }

    /// <summary>
    /// The shortest time from the start of one step to the start of the next while the log stays busy: at least
    /// <see cref="ClickConsumerOptions.CommitInterval"/>, and long enough that the steps take about
    /// <see cref="ClickConsumerOptions.StepShare"/> of the time (a step that took 40 ms at a share of 0.25 is
    /// followed by the next 160 ms later), but never more than <see cref="ClickConsumerOptions.MaxCommitInterval"/>,
    /// which bounds the click-to-query lag under load. Most of a transaction's cost is per transaction and per
    /// distinct bucket, not per click, so fewer, larger transactions leave the cores to the click path (decision 099).
    /// The pacing is for a log that stays busy: after a step of fewer than 1% of MaxBatchEvents (such as one click on
    /// a quiet host) the next waits only the commit interval, as before the pacing.
    /// </summary>
    internal static TimeSpan StepSpacing(ClickConsumerOptions options, int lastBatchCount, TimeSpan lastStepTook)
    {
        if (lastBatchCount < Math.Max(1, options.MaxBatchEvents / 100))
        {
            return options.CommitInterval;
        }
        var paced = options.StepShare < 1 ? lastStepTook / options.StepShare : TimeSpan.Zero;
        if (paced > options.MaxCommitInterval)
        {
            paced = options.MaxCommitInterval;
        }
        return paced > options.CommitInterval ? paced : options.CommitInterval;
    }

    private async Task WaitForAnyCommitAsync(LogPartitionReader[] readers, CancellationToken cancellationToken)
    {
        using var any = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waits = new Task[readers.Length];
        for (int i = 0; i < readers.Length; i++)
        {
            waits[i] = log.Partitions[i].WaitForCommitAsync(readers[i].NextSequence, any.Token);
        }
        var first = await Task.WhenAny(waits).ConfigureAwait(false);
        await any.CancelAsync().ConfigureAwait(false);
        await first.ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Aggregation step failed; resuming from the stored positions in {Delay}.")]
        public static partial void StepFailed(ILogger logger, Exception exception, TimeSpan delay);

        [LoggerMessage(2, LogLevel.Information, "Loaded {Count} dedup claims within the horizon.")]
        public static partial void ClaimsLoaded(ILogger logger, int count);

        [LoggerMessage(3, LogLevel.Information, "Consumer resuming at log positions {Positions}.")]
        public static partial void Resuming(ILogger logger, string positions);

        [LoggerMessage(4, LogLevel.Warning, "Dead-lettered {Count} malformed events (first reason: {Reason}).")]
        public static partial void DeadLettered(ILogger logger, int count, string reason);

        [LoggerMessage(5, LogLevel.Information, "Purged {Count} claims older than the dedup horizon.")]
        public static partial void ClaimsPurged(ILogger logger, long count);
    }
}
