using System.Globalization;
using System.Text;
using ClickFunctions.Aggregation;
using ClickFunctions.Queries;
using DuckDB.NET.Data;
using static ClickFunctions.Embedded.Store.StoreSchema;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// The store's reads, each on a connection of the caller's: the query API's two calls, answered through the
/// <c>ads</c> dictionary (an ad the caller's advertiser never had is absent, however its id is spelled elsewhere), and
/// the minute rows of a window as the reconciler compares them, by the core <see cref="BucketKey"/>.
/// </summary>
internal static class StoreQueries
{
    public static AdClicks? GetAdClicks(DuckDBConnection connection, AdClicksQuery query)
    {
        var segment = QueryPlanner.ForBuckets(query);
        var (_, table, minutes) = Rollups[(int)segment.Rollup];
        if (AdId(connection, query.AdvertiserId, query.AdId) is not { } ad)
        {
            return null;
        }
        long bucketSeconds = minutes * 60L;
        long first = segment.Range.From.ToUnixTimeSeconds() / bucketSeconds;
        long last = segment.Range.To.ToUnixTimeSeconds() / bucketSeconds - 1;
        using var command = connection.CreateCommand();
        // One equality lookup per page of the index on `page` (every campaign of the ad shares its pages): DuckDB
        // answers those from the ART index, while a range or IN filter, or any second predicate, makes it scan the
        // table. The range is checked here, and only numeric columns are fetched (the bucket number is in the key).
        var sql = new StringBuilder("SELECT k, clicks, invalid_clicks FROM (");
        long firstPage = first / AdKey.PageBuckets;
        long lastPage = last / AdKey.PageBuckets;
        for (long page = firstPage; page <= lastPage; page++)
        {
            string name = "p" + (page - firstPage).ToString(CultureInfo.InvariantCulture);
            sql.Append(page == firstPage ? "" : " UNION ALL ")
                .Append(CultureInfo.InvariantCulture, $"SELECT k, clicks, invalid_clicks FROM {table} WHERE page = ${name}");
            command.Parameters.Add(new DuckDBParameter(name, AdKey.PageKey(ad, page)));
        }
        command.CommandText = sql.Append(')').ToString();
        // An ad under several campaigns has one row per campaign in a bucket: the query answers the ad's sum.
        var sums = new SortedDictionary<long, (long Clicks, long Invalid)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                long bucket = reader.GetInt64(0) & AdKey.BucketMask;
                if (bucket >= first && bucket <= last)
                {
                    var (clicks, invalid) = sums.GetValueOrDefault(bucket);
                    sums[bucket] = (clicks + reader.GetInt64(1), invalid + reader.GetInt64(2));
                }
            }
        }
        var buckets = sums.Select(s => new ClickBucket(DateTime.UnixEpoch.AddTicks(s.Key * bucketSeconds * TimeSpan.TicksPerSecond), s.Value.Clicks, s.Value.Invalid)).ToList();
        return AdClicks.Create(query, buckets);
    }

    /// <summary>The dense id of the exact (advertiser, ad) pair, or null when the store has never counted it.</summary>
    private static int? AdId(DuckDBConnection connection, string advertiserId, string adId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, advertiser_id, ad_id FROM ads WHERE name = $name";
        command.Parameters.Add(new DuckDBParameter("name", AdKey.Name(advertiserId, adId)));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (string.Equals(reader.GetString(1), advertiserId, StringComparison.Ordinal) && string.Equals(reader.GetString(2), adId, StringComparison.Ordinal))
            {
                return reader.GetInt32(0);
            }
        }
        return null;
    }

    /// <summary>The advertiser's ads with totals over the range, one entry per (ad, campaign) as the bucket key has it.</summary>
    public static List<AdTotals> ListAds(DuckDBConnection connection, AdvertiserAdsQuery query)
    {
        var segments = QueryPlanner.ForTotals(query.Range);
        var sql = new StringBuilder("SELECT a.ad_id, x.campaign_id, sum(r.clicks)::BIGINT, sum(r.invalid_clicks)::BIGINT FROM (");
        for (int i = 0; i < segments.Count; i++)
        {
            if (i > 0)
            {
                sql.Append(" UNION ALL ");
            }
            sql.Append(CultureInfo.InvariantCulture,
                $"SELECT series, clicks, invalid_clicks FROM {Rollups[(int)segments[i].Rollup].Table} WHERE bucket_start >= $from{i} AND bucket_start < $to{i}");
        }
        sql.Append(") r JOIN series x ON x.id = r.series JOIN ads a ON a.id = x.ad WHERE a.advertiser_id = $advertiser GROUP BY a.ad_id, x.campaign_id");
        using var command = connection.CreateCommand();
        command.CommandText = sql.ToString();
        command.Parameters.Add(new DuckDBParameter("advertiser", query.AdvertiserId));
        for (int i = 0; i < segments.Count; i++)
        {
            command.Parameters.Add(new DuckDBParameter("from" + i.ToString(CultureInfo.InvariantCulture), segments[i].Range.From.UtcDateTime));
            command.Parameters.Add(new DuckDBParameter("to" + i.ToString(CultureInfo.InvariantCulture), segments[i].Range.To.UtcDateTime));
        }
        var ads = new List<AdTotals>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ads.Add(new AdTotals(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
        }
        return ads;
    }

    /// <summary>The minute buckets of [from, to) by the core bucket key, inside <paramref name="transaction"/>.</summary>
    public static Dictionary<BucketKey, BucketCounts> MinuteBuckets(DuckDBConnection connection, DuckDBTransaction transaction, DateTimeOffset from, DateTimeOffset to)
    {
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            SELECT a.advertiser_id, x.campaign_id, a.ad_id, r.bucket_start, r.clicks{ReasonColumns("r.")}
            FROM clicks_minute r JOIN series x ON x.id = r.series JOIN ads a ON a.id = x.ad
            WHERE r.bucket_start >= $from AND r.bucket_start < $to
            """;
        command.Parameters.Add(new DuckDBParameter("from", from.UtcDateTime));
        command.Parameters.Add(new DuckDBParameter("to", to.UtcDateTime));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var minute = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc));
            var counts = new BucketCounts { Clicks = reader.GetInt64(4) };
            for (int i = 0; i < InvalidReasons.Length; i++)
            {
                counts.InvalidByReason[(int)InvalidReasons[i]] = reader.GetInt64(5 + i);
            }
            buckets[new BucketKey(reader.GetString(0), reader.GetString(1), reader.GetString(2), minute)] = counts;
        }
        return buckets;
    }
}
