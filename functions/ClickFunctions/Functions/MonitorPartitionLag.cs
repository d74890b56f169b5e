using ClickFunctions.Azure.EventHubs;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// Timer (schedule from the LAG_MONITOR_SCHEDULE app setting, every minute in infra/): aggregate.lag and
/// aggregate.backlog of every partition from the trigger's checkpoint, so a stalled partition shows in the alert.
/// </summary>
public sealed class MonitorPartitionLag(PartitionLagMonitor monitor)
{
    [Function(nameof(MonitorPartitionLag))]
    public async Task RunAsync([TimerTrigger("%LAG_MONITOR_SCHEDULE%")] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await monitor.MeasureAsync(context.CancellationToken).ConfigureAwait(false);
    }
}
