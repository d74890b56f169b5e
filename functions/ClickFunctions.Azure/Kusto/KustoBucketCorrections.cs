using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Azure.Kusto;

/// <summary>
/// The reconciler's view of ADX. Reads stay under ADX's result limits at any number of ads: first the totals per
/// shard of ads (StoredShardTotals.kql, at most 4,096 rows), then the per-ad minute buckets (StoredBucketsInShards.kql)
/// only of the shards that differ from the recount, in queries of at most <see cref="KustoOptions.MaxRowsPerQuery"/>
/// rows. Buckets are keyed like Core's <see cref="BucketKey"/> (advertiser, campaign, ad, minute). Corrections are
/// ingested as bucket rows with Source "correction", the correction's deterministic row id and signed deltas, so the
/// rollups (sums over the dedup view) equal the recount. What the aggregator has consumed comes from the trigger's
/// checkpoints (<paramref name="positions"/>), read before ADX so everything before them is in the answer.
/// Corrections that went queued are not yet visible when <see cref="WriteAsync"/> returns; the run asks
/// <see cref="TakeQueued"/> so that it records the window as final only once a later run sees them (decision 095).
/// </summary>
public sealed class KustoBucketCorrections(KustoClient kusto, KustoOptions options, IConsumerPositions? positions = null) : IShardedBucketCorrections
{
    private readonly ConcurrentDictionary<(DateTimeOffset From, DateTimeOffset To), int> _queued = new();

    /// <summary>
    /// How many correction rows of the window [<paramref name="from"/>, <paramref name="to"/>) the last
    /// <see cref="WriteAsync"/> of it queued (0: none written, or all streamed and visible); forgets the answer.
    /// </summary>
    public int TakeQueued(DateTimeOffset from, DateTimeOffset to) => _queued.TryRemove((from, to), out int rows) ? rows : 0;

    /// <summary>Every bucket of the window in one answer: for small stores and tests; the reconciler reads by shard.</summary>
    public async ValueTask<StoredBuckets> ReadAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken)
    {
        var consumed = positions is null ? null : await positions.ReadAsync(cancellationToken).ConfigureAwait(false);
        var table = await kusto.QueryAsync(KustoQueries.StoredBuckets, Window(windowStart, windowEnd), cancellationToken).ConfigureAwait(false);
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        AddBuckets(table, buckets);
        return new StoredBuckets(buckets, consumed);
    }

    public async ValueTask<StoredShards> ReadShardTotalsAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken)
    {
        var consumed = positions is null ? null : await positions.ReadAsync(cancellationToken).ConfigureAwait(false);
        var table = await kusto.QueryAsync(KustoQueries.Load("StoredShardTotals"), Window(windowStart, windowEnd), cancellationToken).ConfigureAwait(false);
        int shard = table.Ordinal("Shard"), buckets = table.Ordinal("Buckets"), clicks = table.Ordinal("Clicks"),
            invalid = table.Ordinal("InvalidClicks"), weighted = table.Ordinal("MinuteWeighted");
        var totals = new Dictionary<string, ShardTotals>(StringComparer.Ordinal);
        foreach (var row in table.Rows)
        {
            totals[KustoTable.GetString(row[shard]) ?? ""] = new ShardTotals(KustoTable.GetInt64(row[buckets]) ?? 0, KustoTable.GetInt64(row[clicks]) ?? 0,
                KustoTable.GetInt64(row[invalid]) ?? 0, KustoTable.GetInt64(row[weighted]) ?? 0);
        }
        return new StoredShards(totals, consumed);
    }

    public async ValueTask<(IReadOnlyDictionary<BucketKey, BucketCounts> Buckets, long MaxRowsPerRead)> ReadShardsAsync(
        DateTimeOffset windowStart, DateTimeOffset windowEnd, IReadOnlyDictionary<string, long> expectedBuckets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(expectedBuckets);
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        long maxRows = 0;
        foreach (var group in Groups(expectedBuckets, options.MaxRowsPerQuery))
        {
            var parameters = Window(windowStart, windowEnd);
            parameters["shardIds"] = KustoParameter.HexArray(group);
            var table = await kusto.QueryAsync(KustoQueries.Load("StoredBucketsInShards"), parameters, cancellationToken).ConfigureAwait(false);
            maxRows = Math.Max(maxRows, table.Rows.Count);
            AddBuckets(table, buckets);
        }
        return (buckets, maxRows);
    }

    /// <summary>Shards packed into queries of at most <paramref name="maxRows"/> expected rows (a larger shard goes alone).</summary>
    public static List<List<string>> Groups(IReadOnlyDictionary<string, long> expectedBuckets, long maxRows)
    {
        ArgumentNullException.ThrowIfNull(expectedBuckets);
        var groups = new List<List<string>>();
        var current = new List<string>();
        long rows = 0;
        foreach (var (shard, expected) in expectedBuckets.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (current.Count > 0 && rows + expected > maxRows)
            {
                groups.Add(current);
                current = [];
                rows = 0;
            }
            current.Add(shard);
            rows += expected;
        }
        if (current.Count > 0)
        {
            groups.Add(current);
        }
        return groups;
    }

    public async ValueTask WriteAsync(BucketCorrectionBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        string batchId = string.Create(CultureInfo.InvariantCulture, $"reconcile:{batch.From:yyyy-MM-ddTHH:mmZ}/{batch.To:yyyy-MM-ddTHH:mmZ}");
        var rows = batch.Corrections.Select(c => new BucketRow(c.RowId, c.Key.AdvertiserId, c.Key.CampaignId, c.Key.AdId, c.Key.Minute,
            c.Delta.Clicks, c.Delta.InvalidClicks, BucketRows.Reasons(c.Delta), BucketRows.CorrectionSource, batchId)).ToList();
        int queued = await kusto.IngestBucketsAsync(rows, cancellationToken).ConfigureAwait(false);
        if (queued > 0)
        {
            _queued[(batch.From, batch.To)] = queued;
        }
    }

    private static Dictionary<string, KustoParameter> Window(DateTimeOffset windowStart, DateTimeOffset windowEnd) => new(StringComparer.Ordinal)
    {
        ["fromTime"] = KustoParameter.Time(windowStart),
        ["toTime"] = KustoParameter.Time(windowEnd),
    };

    private static void AddBuckets(KustoTable table, Dictionary<BucketKey, BucketCounts> buckets)
    {
        int adv = table.Ordinal("AdvertiserId"), campaign = table.Ordinal("CampaignId"), ad = table.Ordinal("AdId"), start = table.Ordinal("BucketStart"),
            clicks = table.Ordinal("Clicks"), reasons = table.Ordinal("InvalidByReason");
        foreach (var row in table.Rows)
        {
            var key = new BucketKey(KustoTable.GetString(row[adv]) ?? "", KustoTable.GetString(row[campaign]) ?? "", KustoTable.GetString(row[ad]) ?? "",
                KustoTable.GetDateTime(row[start]) ?? throw new KustoException("A stored bucket without BucketStart."));
            var counts = new BucketCounts();
            counts.Add(ClickReason.Valid, KustoTable.GetInt64(row[clicks]) ?? 0);
            AddReasons(counts, row[reasons]);
            buckets[key] = counts;
        }
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
