using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Embedded.Log;

public sealed class LocalLogOptions
{
    /// <summary>The log's directory (the host uses {data-dir}/log).</summary>
    [Required]
    public string Directory { get; set; } = "";

    /// <summary>Partitions, chosen by a stable hash of the ad id. Fixed for the life of a data directory.</summary>
    [Range(1, 64)]
    public int Partitions { get; set; } = 4;

    /// <summary>A segment file is sealed and a new one started once it passes this size.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The most clicks one group commit (one Avro block, one fsync) takes.</summary>
    [Range(1, 65536)]
    public int MaxBlockEvents { get; set; } = 4096;

    /// <summary>
    /// fsync the partitions written in one commit round at the same time (helper threads) rather than one after
    /// another. Durability is the same: every file is fsync'd before any of its clicks is answered (decision 090).
    /// </summary>
    public bool ParallelSync { get; set; } = true;

    /// <summary>Clicks waiting for a commit (the whole log); beyond this, appends wait (backpressure).</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 50_000;
}
