using ClickFunctions.Azure.Reconciliation;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>Timer (schedule from the RECONCILE_SCHEDULE app setting): recount closed windows from Capture, correct ADX.</summary>
public sealed class ReconcileClicks(AzureReconciliation reconciliation)
{
    [Function(nameof(ReconcileClicks))]
    public Task RunAsync([TimerTrigger("%RECONCILE_SCHEDULE%")] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return reconciliation.RunDueWindowAsync(context.CancellationToken);
    }
}
