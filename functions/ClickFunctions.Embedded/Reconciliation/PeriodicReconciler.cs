using ClickFunctions.Embedded.Retention;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Embedded.Reconciliation;

/// <summary>
/// Reconciles the newest closed window every <see cref="ReconcileOptions.Interval"/> while the local host runs. It
/// shares the host's store (one DuckDB writer process) and only corrects windows the consumer has fully counted.
/// After each run it applies retention (<paramref name="retention"/>, when enabled): in the same loop, so no segment is
/// deleted under a recount reading it. Then it compacts the closed days reconciliation has confirmed
/// (<paramref name="store"/>, docs/decisions/104).
/// </summary>
public sealed partial class PeriodicReconciler(
    EmbeddedReconciliation reconciliation,
    IOptions<ReconcileOptions> options,
    TimeProvider time,
    ILogger<PeriodicReconciler> logger,
    RetentionSweep? retention = null,
    Store.DuckDbClickStore? store = null) : BackgroundService
{
    /// <summary>How long one tick may spend compacting closed days (each day is its own transaction; decision 104).</summary>
    public static readonly TimeSpan CompactionBudget = TimeSpan.FromSeconds(20);

    /// <summary>Runs completed since start (diagnostics and tests).</summary>
    public int Runs { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await reconciliation.RunDueWindowAsync(stoppingToken).ConfigureAwait(false);
                retention?.Run(time.GetUtcNow());
                // Days whose windows reconciliation has confirmed are compacted for the time-zone reads.
                if (store?.Marks.ReconciledThrough is { } through)
                {
                    store.CompactDays(through, CompactionBudget);
                }
                Runs++;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The next tick reconciles an overlapping window again; nothing half-written (corrections are one transaction).
                Log.RunFailed(logger, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Periodic reconciliation failed; the next run retries.")]
        public static partial void RunFailed(ILogger logger, Exception exception);
    }
}
