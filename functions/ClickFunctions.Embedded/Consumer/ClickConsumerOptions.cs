using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Embedded.Consumer;

/// <summary>Configuration section <c>Consumer</c>.</summary>
public sealed class ClickConsumerOptions
{
    public const string Section = "Consumer";

    /// <summary>The most events one step reads (over all partitions) and commits in one transaction.</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchEvents { get; set; } = 20_000;

    /// <summary>
    /// The shortest time between the starts of two transactions while the log is busy: clicks arriving meanwhile
    /// join the next transaction instead of each paying for its own. A full batch does not wait. This bounds the
    /// store's write cost under load at the price of up to this much extra click-to-query latency.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:05")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// While the log is busy, the share of the time the consumer's steps aim to take (1 = no pacing beyond
    /// <see cref="CommitInterval"/>): after a step that took <c>d</c>, the next starts no sooner than
    /// <c>d / StepShare</c> after it began, within <see cref="CommitInterval"/> and <see cref="MaxCommitInterval"/>.
    /// A transaction's cost is mostly per transaction and per distinct bucket, so spacing them out under load
    /// leaves the cores to the click path (decision 099).
    /// </summary>
    [Range(0.01, 1.0)]
    public double StepShare { get; set; } = 0.25;

    /// <summary>The longest the pacing by <see cref="StepShare"/> spaces two steps (the click-to-query lag it may add under load).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:05")]
    public TimeSpan MaxCommitInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The Linux nice value of the thread that runs the aggregation step and the store's transactions (0 to 19; 0 =
    /// normal priority). Raised, the click path's threads win the cores under load and the consumer catches up in
    /// larger batches when the load eases; on a machine that other work keeps busy it can fall far behind, hence
    /// off by default (decision 092).
    /// </summary>
    [Range(0, 19)]
    public int StoreThreadNice { get; set; }

    /// <summary>How long to wait before resuming from the stored positions after a failed step.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often claims older than the dedup horizon are deleted.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ClaimPurgeInterval { get; set; } = TimeSpan.FromMinutes(5);
}
