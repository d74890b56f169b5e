using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;

namespace ClickFunctions.Embedded.Reconciliation;

/// <summary>
/// The embedded store as the reconciler sees it. Reads the minute rows of a window together with the consumer's
/// positions in one snapshot (so the reconciler can tell counted from not-yet-counted events), on a reader connection
/// of the store, through the store's own queries. Corrections go through <see cref="DuckDbClickStore.Commit"/> as
/// bucket deltas: minute, hour and day rows move together in one transaction, and the dimension rollups
/// (<c>dims_quarter</c>, <c>dims_day</c>) move with them by the dimension deltas of <see cref="DimensionDeltas"/>, so a
/// breakdown's totals stay equal to the bucket totals (docs/decisions/088-corrections-and-retention-of-dimension-rollups.md).
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
            var delta = new BucketCounts();
            delta.Add(correction.Delta);
            deltas[correction.Key] = delta;
        }
        DimensionDeltas(batch, deltas);
        store.Commit(new StoreBatch(deltas, [], [], new Dictionary<int, long>()));
        return ValueTask.CompletedTask;
    }

    private const long QuarterMinutes = 15;

    /// <summary>
    /// Adds to one corrected minute of each affected quarter hour the change its dimension rows need (the rollup
    /// upsert adds it to the quarter's and the day's rows). A quarter wholly inside the window becomes the recount of
    /// its minutes, value by value. A quarter the window cuts keeps its rows for the minutes outside the window: the
    /// corrected minutes gain their recounted values and lose their stored clicks, taken from what the quarter holds
    /// beyond the recount of its matched minutes (exactly their values whenever the rest of the quarter is inside the
    /// window; otherwise the largest such values first). Either way each dimension's total changes by exactly the
    /// bucket delta, so breakdown totals equal bucket totals.
    /// </summary>
    private void DimensionDeltas(BucketCorrectionBatch batch, Dictionary<BucketKey, BucketCounts> deltas)
    {
        var groups = new Dictionary<(string Advertiser, string Campaign, string Ad, long Quarter), List<BucketCorrection>>();
        foreach (var correction in batch.Corrections)
        {
            var k = correction.Key;
            var group = (k.AdvertiserId, k.CampaignId, k.AdId, k.Minute.ToUnixTimeSeconds() / 60 / QuarterMinutes);
            if (!groups.TryGetValue(group, out var list))
            {
                groups[group] = list = [];
            }
            list.Add(correction);
        }
        var recountOfQuarter = new Dictionary<(string, string, string, long), Dictionary<(ClickDimension, string), DimensionCount>>();
        var matchedOfQuarter = new Dictionary<(string, string, string, long), Dictionary<(ClickDimension, string), DimensionCount>>();
        foreach (var (key, counts) in batch.Recounted ?? new Dictionary<BucketKey, BucketCounts>())
        {
            var group = (key.AdvertiserId, key.CampaignId, key.AdId, key.Minute.ToUnixTimeSeconds() / 60 / QuarterMinutes);
            if (!groups.TryGetValue(group, out var corrected) || counts.Dimensions is not { } dimensions)
            {
                continue;
            }
            AddAll(recountOfQuarter, group, dimensions, 1);
            if (!corrected.Exists(c => c.Key == key))
            {
                AddAll(matchedOfQuarter, group, dimensions, 1);
            }
        }
        var stored = ReadQuarterRows(groups.Keys);
        long from = batch.From.ToUnixTimeSeconds() / 60, to = batch.To.ToUnixTimeSeconds() / 60;
        foreach (var (group, corrected) in groups)
        {
            var have = stored.GetValueOrDefault(group) ?? [];
            var change = new Dictionary<(ClickDimension, string), DimensionCount>();
            bool whole = group.Quarter * QuarterMinutes >= from && (group.Quarter + 1) * QuarterMinutes <= to;
            if (whole)
            {
                AddInto(change, recountOfQuarter.GetValueOrDefault(group) ?? [], 1);
                AddInto(change, have, -1);
            }
            else
            {
                foreach (var correction in corrected)
                {
                    if (correction.Recounted.Dimensions is { } recounted)
                    {
                        AddInto(change, recounted, 1);
                    }
                }
                long storedClicks = corrected.Sum(c => c.Stored.Clicks), storedInvalid = corrected.Sum(c => c.Stored.InvalidClicks);
                var matched = matchedOfQuarter.GetValueOrDefault(group) ?? [];
                var recountedCorrected = new Dictionary<(ClickDimension, string), DimensionCount>();
                foreach (var correction in corrected)
                {
                    if (correction.Recounted.Dimensions is { } recounted)
                    {
                        AddInto(recountedCorrected, recounted, 1);
                    }
                }
                foreach (var dimension in DimensionCodes.All)
                {
                    var rows = have.Where(r => r.Key.Item1 == dimension).ToList();
                    Take(change, rows, matched, recountedCorrected, storedClicks, invalid: false);
                    Take(change, rows, matched, recountedCorrected, storedInvalid, invalid: true);
                }
            }
            var target = deltas[corrected[0].Key];
            foreach (var ((dimension, value), count) in change)
            {
                if (count.Clicks != 0 || count.InvalidClicks != 0)
                {
                    target.AddDimension(dimension, value, count.Clicks, count.InvalidClicks);
                }
            }
        }
    }

    /// <summary>
    /// Removes <paramref name="amount"/> clicks of one dimension (its stored <paramref name="rows"/>) from the quarter:
    /// only from what its matched minutes do not explain, first in rounds of the corrected minutes' recounted values
    /// (a minute counted twice holds its values twice), then the largest such values, then any stored value.
    /// </summary>
    private static void Take(Dictionary<(ClickDimension, string), DimensionCount> change, List<KeyValuePair<(ClickDimension, string), DimensionCount>> rows,
        Dictionary<(ClickDimension, string), DimensionCount> matched, Dictionary<(ClickDimension, string), DimensionCount> recounted, long amount, bool invalid)
    {
        long Of(DimensionCount c) => invalid ? c.InvalidClicks : c.Clicks;
        var stored = rows.ToDictionary(r => r.Key, r => Of(r.Value));
        var spare = rows.ToDictionary(r => r.Key, r => Of(r.Value) - (matched.TryGetValue(r.Key, out var m) ? Of(m) : 0));
        void Remove((ClickDimension, string) key, long taken)
        {
            amount -= taken;
            stored[key] -= taken;
            spare[key] -= taken;
            if (!change.TryGetValue(key, out var count))
            {
                change[key] = count = new DimensionCount();
            }
            if (invalid)
            {
                count.InvalidClicks -= taken;
            }
            else
            {
                count.Clicks -= taken;
            }
        }
        var keys = rows.Select(r => r.Key).OrderBy(k => k.Item2, StringComparer.Ordinal).ToList();
        for (bool progress = true; progress && amount > 0;)
        {
            progress = false;
            foreach (var key in keys)
            {
                long taken = Math.Min(amount, Math.Min(spare[key], recounted.TryGetValue(key, out var r) ? Of(r) : 0));
                if (taken > 0)
                {
                    Remove(key, taken);
                    progress = true;
                }
            }
        }
        foreach (var key in keys.OrderByDescending(k => spare[k]))
        {
            Remove(key, Math.Min(amount, Math.Max(0, spare[key])));
        }
        foreach (var key in keys.OrderByDescending(k => stored[k]))
        {
            Remove(key, Math.Min(amount, Math.Max(0, stored[key])));
        }
    }

    private static void AddAll<TGroup>(Dictionary<TGroup, Dictionary<(ClickDimension, string), DimensionCount>> into, TGroup group, DimensionCountCollection counts, int sign)
        where TGroup : notnull
    {
        if (!into.TryGetValue(group, out var target))
        {
            into[group] = target = [];
        }
        AddInto(target, counts, sign);
    }

    private static void AddInto(Dictionary<(ClickDimension, string), DimensionCount> target, DimensionCountCollection counts, int sign)
    {
        foreach (var (key, count) in counts)
        {
            AddInto(target, key, count.Clicks, count.InvalidClicks, sign);
        }
    }

    private static void AddInto(Dictionary<(ClickDimension, string), DimensionCount> target, IEnumerable<KeyValuePair<(ClickDimension Dimension, string Value), DimensionCount>> counts, int sign)
    {
        foreach (var (key, count) in counts)
        {
            AddInto(target, key, count.Clicks, count.InvalidClicks, sign);
        }
    }

    private static void AddInto(Dictionary<(ClickDimension, string), DimensionCount> target, (ClickDimension, string) key, long clicks, long invalidClicks, int sign)
    {
        if (!target.TryGetValue(key, out var sum))
        {
            target[key] = sum = new DimensionCount();
        }
        sum.Clicks += sign * clicks;
        sum.InvalidClicks += sign * invalidClicks;
    }

    /// <summary>The stored dimension rows of each (ad, campaign, quarter hour), each read by one lookup of the ad's page.</summary>
    private Dictionary<(string, string, string, long), Dictionary<(ClickDimension, string), DimensionCount>> ReadQuarterRows(IEnumerable<(string Advertiser, string Campaign, string Ad, long Quarter)> groups) =>
        store.WithReader(connection =>
        {
            var rows = new Dictionary<(string, string, string, long), Dictionary<(ClickDimension, string), DimensionCount>>();
            foreach (var group in groups)
            {
                var counts = new Dictionary<(ClickDimension, string), DimensionCount>();
                rows[group] = counts;
                using var lookup = connection.CreateCommand();
                lookup.CommandText = "SELECT id FROM ads WHERE name = $name";
                lookup.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("name", AdKey.Name(group.Advertiser, group.Ad)));
                if (lookup.ExecuteScalar() is not { } adId)
                {
                    continue;
                }
                using var command = connection.CreateCommand();
                // An equality lookup on the page index (as the breakdown reads), then the quarter and campaign.
                command.CommandText = """
                    SELECT v.dim, v.value, d.clicks, d.invalid_clicks
                    FROM (SELECT series, value, bucket, clicks, invalid_clicks FROM dims_quarter WHERE page = $page) d
                    JOIN series x ON x.id = d.series JOIN dim_values v ON v.id = d.value
                    WHERE d.bucket = $quarter AND x.campaign_id = $campaign
                    """;
                command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("page", AdKey.PageKey(Convert.ToInt32(adId, CultureInfo.InvariantCulture), group.Quarter / AdKey.PageBuckets)));
                command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("quarter", (int)group.Quarter));
                command.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("campaign", group.Campaign));
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    counts[((ClickDimension)Convert.ToByte(reader.GetValue(0), CultureInfo.InvariantCulture), reader.GetString(1))] = new DimensionCount { Clicks = reader.GetInt64(2), InvalidClicks = reader.GetInt64(3) };
                }
            }
            return rows;
        });
}
