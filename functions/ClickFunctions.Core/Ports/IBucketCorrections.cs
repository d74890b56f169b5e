using ClickFunctions.Aggregation;

namespace ClickFunctions.Ports;

/// <summary>
/// The store's minute counts of a window as the reconciler compares them. <see cref="ConsumedUpTo"/> is set by stores
/// whose counts move with the consumer's positions in one transaction (the embedded store): per partition, the next
/// sequence number not yet counted; events at or after it are not in <see cref="Buckets"/> yet. Stores that cannot
/// say (ADX) leave it <see langword="null"/>, and closed windows are all the reconciler relies on.
/// </summary>
public sealed record StoredBuckets(IReadOnlyDictionary<BucketKey, BucketCounts> Buckets, IReadOnlyDictionary<string, long>? ConsumedUpTo);

/// <summary>
/// One correction row: <see cref="Delta"/> = <see cref="Recounted"/> − <see cref="Stored"/> (negative where the store
/// over-counted). <see cref="RowId"/> is deterministic in (window, key, stored, recounted), so a correction that is
/// written twice (a retry, or a rerun that still sees the pre-correction counts because ingestion lags) carries the
/// same id and a take_any-by-row-id dedup view collapses it.
/// </summary>
public sealed record BucketCorrection(BucketKey Key, BucketCounts Stored, BucketCounts Recounted, BucketCounts Delta, string RowId);

/// <summary>
/// The corrections of one reconciled window, written together. <see cref="Recounted"/>: the recount's minute buckets
/// of the window (with their dimension values), for stores that keep coarser dimension rollups and must correct them
/// from the matched minutes around a corrected one (the embedded store, docs/decisions/088).
/// </summary>
public sealed record BucketCorrectionBatch(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<BucketCorrection> Corrections)
{
    public IReadOnlyDictionary<BucketKey, BucketCounts>? Recounted { get; init; }
}

/// <summary>
/// The store side of reconciliation: read the minute counts of a window, and add correction deltas so the store
/// equals the recount. Embedded: DuckDB minute rows (and their hour and day rollups) in one transaction. Azure: the
/// deduplicated bucket view in ADX, with corrections ingested as bucket rows whose row id is <see cref="BucketCorrection.RowId"/>.
/// </summary>
public interface IBucketCorrections
{
    /// <summary>Every stored minute bucket whose minute is in [<paramref name="windowStart"/>, <paramref name="windowEnd"/>), all advertisers.</summary>
    ValueTask<StoredBuckets> ReadAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken);

    /// <summary>Adds every <see cref="BucketCorrection.Delta"/>; all or nothing where the store allows it.</summary>
    ValueTask WriteAsync(BucketCorrectionBatch batch, CancellationToken cancellationToken);
}
