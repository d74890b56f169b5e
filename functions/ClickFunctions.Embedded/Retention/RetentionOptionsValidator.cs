using ClickFunctions.Aggregation;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Embedded.Retention;

/// <summary>
/// The log must outlive what reconciliation reads back: a due window's recount reads the log from the window's start
/// less the dedup lookback, so a log kept for less than lookback + span + lateness + interval would make every
/// periodic run refuse its window (and keep its segments forever).
/// </summary>
public sealed class RetentionOptionsValidator(IOptions<DedupOptions> dedup, IOptions<ReconcileOptions> reconcile) : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var r = reconcile.Value;
        var needed = (r.DedupLookback ?? dedup.Value.Horizon) + r.Span + r.AllowedLateness + r.Interval;
        if (options.Log < needed)
        {
            return ValidateOptionsResult.Fail(
                $"Retention:Log ({options.Log}) must be at least the dedup lookback (Reconcile:DedupLookback, else Dedup:Horizon) + Reconcile:Span + Reconcile:AllowedLateness + Reconcile:Interval = {needed}: the periodic reconciliation reads that far back.");
        }
        if (options.Minute < options.Log)
        {
            return ValidateOptionsResult.Fail($"Retention:Minute ({options.Minute}) must be at least Retention:Log ({options.Log}): reconciliation corrects minute buckets of every window the log still holds.");
        }
        return ValidateOptionsResult.Success;
    }
}
