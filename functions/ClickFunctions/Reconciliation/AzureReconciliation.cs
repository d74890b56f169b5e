using ClickFunctions.Azure.Capture;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Clicks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Functions.Reconciliation;

/// <summary>
/// The Azure side of reconciliation: picks the newest closed window, and gives the core reconciler its Azure
/// sources: raw events from Capture blobs (<see cref="CaptureBlobSource"/>) and stored counts from ADX
/// (<see cref="KustoBucketQueries.BucketCountsAsync"/>); corrections go back as bucket rows with Source "correction".
/// </summary>
public sealed partial class AzureReconciliation(
    CaptureBlobSource capture,
    KustoBucketQueries stored,
    IOptions<ReconcileOptions> options,
    TimeProvider time,
    ILogger<AzureReconciliation> logger)
{
    private readonly ReconcileOptions _options = options.Value;

    /// <summary>[from, to): the newest <see cref="ReconcileOptions.Span"/> whose every event is surely captured.</summary>
    public (DateTimeOffset From, DateTimeOffset To) DueWindow()
    {
        var to = TimeBuckets.FloorToMinute(time.GetUtcNow() - _options.CaptureWindow - _options.AllowedLateness);
        return (to - _options.Span, to);
    }

    public async Task RunDueWindowAsync(CancellationToken cancellationToken)
    {
        var (from, to) = DueWindow();
        long events = 0;
        // Capture files are named by window start; a file that began before `from` can still hold events of the window.
        await foreach (var raw in capture.ReadAsync(from - _options.CaptureWindow, to, cancellationToken).ConfigureAwait(false))
        {
            events++;
        }
        var buckets = await stored.BucketCountsAsync(from, to, cancellationToken).ConfigureAwait(false);
        // The recount and correction logic is the core reconciler's (issue 6); until it is wired here this run only
        // proves both sources are readable and says so, rather than pretending to reconcile.
        Log.SourcesRead(logger, from, to, events, buckets.Count);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Reconcile [{From}, {To}): read {Events} Capture events and {Buckets} stored buckets; the core reconciler is not wired yet, nothing corrected")]
        public static partial void SourcesRead(ILogger logger, DateTimeOffset from, DateTimeOffset to, long events, int buckets);
    }
}
