using ClickFunctions.Ports;

namespace ClickFunctions.Aggregation;

/// <summary>A raw event that could not be aggregated, with why. It is set aside (dead-lettered), never retried forever.</summary>
public sealed record DeadLetter(RawEvent Event, string Reason);

/// <summary>What one aggregation step produced from one batch of raw events.</summary>
public sealed class AggregationResult(int bucketCapacity = 0)
{
    /// <summary>The step sizes this from the buckets per event of the batches before (decision 097).</summary>
    public Dictionary<BucketKey, BucketCounts> Buckets { get; } = new(bucketCapacity);

    public List<DeadLetter> DeadLetters { get; } = [];

    public int Events { get; set; }

    public int Duplicates { get; set; }

    public int Redelivered { get; set; }
}
