using ClickFunctions.Aggregation;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Ports;

/// <summary>
/// The totals of every shard of a window (<see cref="BucketShards"/>), and per partition the next sequence number the
/// store's consumer has not consumed yet (see <see cref="StoredBuckets.ConsumedUpTo"/>), taken before the totals.
/// </summary>
public sealed record StoredShards(IReadOnlyDictionary<string, ShardTotals> Totals, IReadOnlyDictionary<string, long>? ConsumedUpTo);

/// <summary>
/// A store too large to read every bucket of a window in one answer (ADX at 10M active ads: one row per (ad, minute)
/// is millions of rows, past its result limits). The reconciler compares totals per shard of ads first and reads
/// per-ad rows only of the shards that differ, in reads of bounded size.
/// </summary>
public interface IShardedBucketCorrections : IBucketCorrections
{
    ValueTask<StoredShards> ReadShardTotalsAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken);

    /// <summary>
    /// Every stored bucket of the window in <paramref name="shards"/>. <paramref name="expectedBuckets"/> bounds the
    /// rows to expect per shard (the larger of the stored and recounted bucket counts), so reads can be split.
    /// Returns the buckets and the most rows any one read returned.
    /// </summary>
    ValueTask<(IReadOnlyDictionary<BucketKey, BucketCounts> Buckets, long MaxRowsPerRead)> ReadShardsAsync(
        DateTimeOffset windowStart, DateTimeOffset windowEnd, IReadOnlyDictionary<string, long> expectedBuckets, CancellationToken cancellationToken);
}

/// <summary>
/// How far the store's consumer got, per partition: the next sequence number not yet consumed (events before it are
/// counted in the store). Azure: the Event Hubs trigger's checkpoints.
/// </summary>
public interface IConsumerPositions
{
    ValueTask<IReadOnlyDictionary<string, long>> ReadAsync(CancellationToken cancellationToken);
}
