using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;

namespace ClickFunctions.Embedded.Reconciliation;

/// <summary>
/// The embedded store as the reconciler sees it. Reads the minute rows of a window together with the consumer's
/// positions in one snapshot (so the reconciler can tell counted from not-yet-counted events), on a reader connection
/// of the store, through the store's own queries. Corrections go through <see cref="DuckDbClickStore.Commit"/> as
/// bucket deltas: minute, hour and day rows move together in one transaction.
/// </summary>
public sealed class DuckDbBucketCorrections(DuckDbClickStore store) : IBucketCorrections
{
    public ValueTask<StoredBuckets> ReadAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var stored = store.WithReader(connection =>
        {
            using var transaction = connection.BeginTransaction();
            var positions = StorePositions.Load(connection, transaction)
                .ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value, StringComparer.Ordinal);
            var buckets = StoreQueries.MinuteBuckets(connection, transaction, windowStart, windowEnd);
            transaction.Commit();
            return new StoredBuckets(buckets, positions);
        });
        return ValueTask.FromResult(stored);
    }

    public ValueTask WriteAsync(BucketCorrectionBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var deltas = new Dictionary<BucketKey, BucketCounts>(batch.Corrections.Count);
        foreach (var correction in batch.Corrections)
        {
            deltas[correction.Key] = correction.Delta;
        }
        store.Commit(new StoreBatch(deltas, [], [], new Dictionary<int, long>()));
        return ValueTask.CompletedTask;
    }
}
