using ClickFunctions.Azure.Kusto;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// Timer (the LAG_MONITOR_SCHEDULE app setting: every minute in infra/, like the other monitoring timer): reads ADX's
/// failed-ingestions queue and sets each queued ingestion that failed for good aside in the dead-letter container with
/// its reason, counted in aggregate.dead_letters (decision 064).
/// </summary>
public sealed class DrainIngestionFailures(IngestionFailureDrain drain)
{
    [Function(nameof(DrainIngestionFailures))]
    public async Task RunAsync([TimerTrigger("%LAG_MONITOR_SCHEDULE%")] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await drain.DrainAsync(context.CancellationToken).ConfigureAwait(false);
    }
}
