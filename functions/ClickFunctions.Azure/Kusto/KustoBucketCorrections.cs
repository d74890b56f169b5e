using System.Globalization;
using System.Text.Json;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Azure.Kusto;

/// <summary>
/// The reconciler's view of ADX: stored minute counts from the dedup view (StoredBuckets.kql), and corrections
/// ingested as bucket rows with Source "correction", the correction's deterministic row id and signed deltas, so the
/// rollups (sums over the dedup view) equal the recount. ADX cannot tell how far its consumer got, so
/// <see cref="StoredBuckets.ConsumedUpTo"/> is null and only closed windows are reconciled.
/// </summary>
public sealed class KustoBucketCorrections(KustoClient kusto) : IBucketCorrections
{
    public async ValueTask<StoredBuckets> ReadAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken)
    {
        var table = await kusto.QueryAsync(KustoQueries.StoredBuckets, new Dictionary<string, KustoParameter>(StringComparer.Ordinal)
        {
            ["fromTime"] = KustoParameter.Time(windowStart),
            ["toTime"] = KustoParameter.Time(windowEnd),
        }, cancellationToken).ConfigureAwait(false);
        int adv = table.Ordinal("AdvertiserId"), campaign = table.Ordinal("CampaignId"), ad = table.Ordinal("AdId"), start = table.Ordinal("BucketStart"),
            clicks = table.Ordinal("Clicks"), reasons = table.Ordinal("InvalidByReason");
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        foreach (var row in table.Rows)
        {
            var key = new BucketKey(KustoTable.GetString(row[adv]) ?? "", KustoTable.GetString(row[campaign]) ?? "", KustoTable.GetString(row[ad]) ?? "",
                KustoTable.GetDateTime(row[start]) ?? throw new KustoException("A stored bucket without BucketStart."));
            var counts = new BucketCounts();
            counts.Add(ClickReason.Valid, KustoTable.GetInt64(row[clicks]) ?? 0);
            AddReasons(counts, row[reasons]);
            buckets[key] = counts;
        }
        return new StoredBuckets(buckets, null);
    }

    public async ValueTask WriteAsync(BucketCorrectionBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        string batchId = string.Create(CultureInfo.InvariantCulture, $"reconcile:{batch.From:yyyy-MM-ddTHH:mmZ}/{batch.To:yyyy-MM-ddTHH:mmZ}");
        var rows = batch.Corrections.Select(c => new BucketRow(c.RowId, c.Key.AdvertiserId, c.Key.CampaignId, c.Key.AdId, c.Key.Minute,
            c.Delta.Clicks, c.Delta.InvalidClicks, BucketRows.Reasons(c.Delta), BucketRows.CorrectionSource, batchId)).ToList();
        await kusto.IngestBucketsAsync(rows, cancellationToken).ConfigureAwait(false);
    }

    private static void AddReasons(BucketCounts counts, JsonElement bag)
    {
        // A dynamic column arrives as a JSON object, or as a string holding one.
        if (bag.ValueKind == JsonValueKind.String && bag.GetString() is { Length: > 0 } text)
        {
            using var parsed = JsonDocument.Parse(text);
            AddReasons(counts, parsed.RootElement.Clone());
            return;
        }
        if (bag.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        foreach (var reason in bag.EnumerateObject())
        {
            var match = ClickReasons.All.Where(r => r != ClickReason.Valid && r.Code() == reason.Name).ToList();
            if (match.Count == 0)
            {
                throw new KustoException($"Stored bucket has an unknown invalid-click reason '{reason.Name}'.");
            }
            counts.Add(match[0], reason.Value.GetInt64());
        }
    }
}
