using System.Globalization;
using System.Text.Json;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Azure.Tests.Rehearsal;

/// <summary>
/// The stored side of one reconcile window at the design load, held by the loopback ADX server so that the real
/// reconcile reads (<see cref="KustoBucketCorrections.ReadShardTotalsAsync"/>, <see cref="KustoBucketCorrections.ReadShardsAsync"/>)
/// run against it and the rows each answer carried are counted on the server, after its 500,000-record / 64 MB
/// truncation. The store: <c>ads</c> synthetic ads with one bucket in each minute of the window (compactly kept, not
/// as rows), answering the two queries the reconciler sends (StoredShardTotals.kql, StoredBucketsInShards.kql) with
/// the same semantics: totals per shard of the non-zero buckets, and every bucket of the asked-for shards.
/// </summary>
public sealed class ReconcileReadModel
{
    private readonly int _ads;
    private readonly int _minutes;
    private readonly DateTimeOffset _from;
    private readonly string[] _shardOfAd;
    private readonly Dictionary<string, List<int>> _adsOfShard = new(StringComparer.Ordinal);

    public ReconcileReadModel(int ads, int minutes, DateTimeOffset from)
    {
        _ads = ads;
        _minutes = minutes;
        _from = from;
        _shardOfAd = new string[ads];
        for (int i = 0; i < ads; i++)
        {
            string shard = BucketShards.Of("adv-1", "cmp-1", Ad(i));
            _shardOfAd[i] = shard;
            if (!_adsOfShard.TryGetValue(shard, out var list))
            {
                _adsOfShard[shard] = list = [];
            }
            list.Add(i);
        }
    }

    public long Buckets => (long)_ads * _minutes;

    private static string Ad(int i) => "ad-" + i.ToString(CultureInfo.InvariantCulture);

    private static long Clicks(int ad, int minute) => 1 + ((ad + minute) % 3);

    /// <summary>The server's answer to a reconcile query, or null for any other request.</summary>
    public string? Answer(RecordedRequest request)
    {
        using var body = JsonDocument.Parse(request.Body);
        string csl = body.RootElement.GetProperty("csl").GetString() ?? "";
        if (csl == KustoQueries.Load("StoredShardTotals"))
        {
            var rows = _adsOfShard.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
            {
                long clicks = 0, weighted = 0;
                foreach (int ad in s.Value)
                {
                    for (int m = 0; m < _minutes; m++)
                    {
                        clicks += Clicks(ad, m);
                        weighted += Clicks(ad, m) * m;
                    }
                }
                return new object?[] { s.Key, (long)s.Value.Count * _minutes, clicks, 0L, weighted };
            }).ToArray();
            return V2Responses.WithPrimaryResult([("Shard", "string"), ("Buckets", "long"), ("Clicks", "long"), ("InvalidClicks", "long"), ("MinuteWeighted", "long")], rows);
        }
        if (csl == KustoQueries.Load("StoredBucketsInShards"))
        {
            string shardIds = body.RootElement.GetProperty("properties").GetProperty("Parameters").GetProperty("shardIds").GetString() ?? "";
            var shards = JsonDocument.Parse(shardIds["dynamic(".Length..^1]).RootElement.EnumerateArray().Select(e => e.GetString()!).ToList();
            // Written straight to JSON text: a design-scale answer is 200,000 rows, too many to build as nodes quickly.
            var text = new System.Text.StringBuilder("[");
            var minutes = Enumerable.Range(0, _minutes).Select(m => _from.AddMinutes(m).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).ToArray();
            bool first = true;
            foreach (string shard in shards)
            {
                foreach (int ad in _adsOfShard.GetValueOrDefault(shard) ?? [])
                {
                    for (int m = 0; m < _minutes; m++)
                    {
                        text.Append(first ? "" : ",").Append("[\"adv-1\",\"cmp-1\",\"").Append(Ad(ad)).Append("\",\"").Append(minutes[m]).Append("\",")
                            .Append(Clicks(ad, m).ToString(CultureInfo.InvariantCulture)).Append(",0,null]");
                        first = false;
                    }
                }
            }
            text.Append(']');
            return V2Responses.WithPrimaryResultRows([("AdvertiserId", "string"), ("CampaignId", "string"), ("AdId", "string"), ("BucketStart", "datetime"), ("Clicks", "long"), ("InvalidClicks", "long"), ("InvalidByReason", "dynamic")], text.ToString());
        }
        return null;
    }
}
