using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Azure.Aggregation;

/// <summary>
/// Section <c>Aggregation</c>: how long AggregateClicks keeps trying one batch before setting it aside. A batch that
/// fails with a permanent error (403, a bad mapping, a malformed request: see <see cref="FailureKinds"/>) is tried
/// <see cref="PermanentAttempts"/> times, one that keeps failing transiently (429, 5xx, timeouts)
/// <see cref="TransientAttempts"/> times with exponential backoff; then the whole batch goes to the dead-letter
/// container with the reason, <c>aggregate.dead_letters</c> counts it, and the partition moves on. Reconciliation
/// against Capture recounts whatever the set-aside batch would have counted.
/// </summary>
public sealed class AggregationRetryOptions
{
    public const string Section = "Aggregation";

    [Range(1, 10)]
    public int PermanentAttempts { get; set; } = 2;

    [Range(1, 50)]
    public int TransientAttempts { get; set; } = 8;

    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);
}
