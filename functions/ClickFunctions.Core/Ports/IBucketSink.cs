using ClickFunctions.Aggregation;

namespace ClickFunctions.Ports;

/// <summary>
/// The write side of the bucket store in Azure: minute buckets of one aggregated batch. <paramref name="batchId"/>
/// in <see cref="WriteAsync"/> is deterministic for the batch (e.g. partition + first and last sequence number), so
/// a retried or redelivered batch writes rows with the same ids and a dedup view collapses them
/// (docs/architecture.md, invariant 4). The embedded store does not use this port: it commits buckets, claims and log positions in one
/// transaction instead.
/// </summary>
public interface IBucketSink
{
    ValueTask WriteAsync(string batchId, IReadOnlyDictionary<BucketKey, BucketCounts> buckets, CancellationToken cancellationToken);
}
