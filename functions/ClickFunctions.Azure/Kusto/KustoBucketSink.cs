using ClickFunctions.Aggregation;
using ClickFunctions.Ports;

namespace ClickFunctions.Azure.Kusto;

/// <summary>The Azure bucket store's write side: one streaming-ingestion request per batch, rows with deterministic ids.</summary>
public sealed class KustoBucketSink(KustoClient kusto) : IBucketSink
{
    public async ValueTask WriteAsync(string batchId, IReadOnlyDictionary<BucketKey, BucketCounts> buckets, CancellationToken cancellationToken) =>
        await kusto.IngestBucketsAsync(BucketRows.From(buckets, BucketRows.StreamSource, batchId), cancellationToken).ConfigureAwait(false);
}
