using System.Globalization;
using DuckDB.NET.Data;
using static ClickFunctions.Embedded.Store.StoreSchema;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// Writes one <see cref="StoreBatch"/> in one transaction on the writer connection: the batch's minute buckets go
/// through <c>staging_buckets</c>; ads and (ad, campaign) series new to the store get the next dense ids in the same
/// transaction; then the minute, hour and day rollups are upserted, and the claims, dead letters and positions
/// appended. After a crash the store is before or after the batch, never between (docs/architecture.md, invariant 4).
/// </summary>
internal sealed class StoreWriter(DuckDBConnection connection)
{
    // The compacted days as committed (QuarterDays): only this writer changes them, so the set is the table's.
    private HashSet<long> _compacted = QuarterDays.Load(connection);

    /// <summary>Whether UTC day <paramref name="day"/> (Unix day number) is compacted.</summary>
    public bool IsCompacted(long day) => _compacted.Contains(day);

    /// <summary>Compacts one closed day (see <see cref="QuarterDays.Compact"/>); returns the rows written.</summary>
    public int Compact(long day)
    {
        try
        {
            int rows = QuarterDays.Compact(connection, day);
            _compacted.Add(day);
            return rows;
        }
        catch
        {
            _compacted = QuarterDays.Load(connection);
            throw;
        }
    }

    /// <summary>Forgets the compacted days before <paramref name="firstKeptDay"/>, inside the caller's transaction; <see cref="Reload"/> after it ends.</summary>
    public void ForgetBefore(long firstKeptDay)
    {
        foreach (long day in _compacted.Where(d => d < firstKeptDay).ToList())
        {
            QuarterDays.Forget(connection, day);
        }
    }

    public void Reload() => _compacted = QuarterDays.Load(connection);

    private const string NewAds = """
        INSERT INTO ads
        SELECT (SELECT coalesce(max(id), 0) FROM ads) + row_number() OVER (ORDER BY ad_name), ad_name, advertiser_id, ad_id
        FROM (SELECT DISTINCT ad_name, advertiser_id, ad_id FROM staging_buckets) s
        WHERE NOT EXISTS (SELECT 1 FROM ads a WHERE a.name = s.ad_name)
        """;

    private const string NewSeries = """
        INSERT INTO series
        SELECT (SELECT coalesce(max(id), 0) FROM series) + row_number() OVER (ORDER BY a.id, s.campaign_id), a.id, s.campaign_id
        FROM (SELECT DISTINCT ad_name, campaign_id FROM staging_buckets) s JOIN ads a ON a.name = s.ad_name
        WHERE NOT EXISTS (SELECT 1 FROM series x WHERE x.ad = a.id AND x.campaign_id = s.campaign_id)
        """;

    private static readonly string[] Upserts = [NewAds, NewSeries, .. Rollups.Select(r => UpsertSql(r.Table, r.Minutes))];

    private const string NewDimValues = """
        INSERT INTO dim_values
        SELECT (SELECT coalesce(max(id), 0) FROM dim_values) + row_number() OVER (ORDER BY s.dim, s.value), s.dim, s.value
        FROM (SELECT DISTINCT dim, value FROM staging_dims) s
        WHERE NOT EXISTS (SELECT 1 FROM dim_values v WHERE v.dim = s.dim AND v.value = s.value)
        """;

    // The advertiser's day rollup, from the same staged values (docs/decisions/103): an advertiser's breakdown reads it
    // for whole UTC days instead of every ad's day rows.
    private static readonly string AdvertiserDayUpsert = string.Create(CultureInfo.InvariantCulture, $"""
        INSERT INTO advertiser_dims_day (advertiser, value, bucket, clicks, invalid_clicks)
        SELECT a.advertiser_id, v.id, (d.minute // 1440)::INTEGER, sum(d.clicks), sum(d.invalid_clicks)
        FROM staging_dims d JOIN ads a ON a.name = d.ad_name JOIN dim_values v ON v.dim = d.dim AND v.value = d.value
        GROUP BY a.advertiser_id, v.id, d.minute // 1440
        ON CONFLICT (advertiser, value, bucket) DO UPDATE SET clicks = clicks + excluded.clicks, invalid_clicks = invalid_clicks + excluded.invalid_clicks
        """);

    private static readonly string[] DimensionUpserts = [NewDimValues, .. DimensionRollups.Select(r => DimensionUpsertSql(r.Table, r.Minutes)), AdvertiserDayUpsert];

    private static string DimensionUpsertSql(string table, int minutes) => string.Create(CultureInfo.InvariantCulture, $"""
        INSERT INTO {table} (series, value, bucket, page, clicks, invalid_clicks)
        SELECT x.id, v.id, (d.minute // {minutes})::INTEGER, a.id::BIGINT * {AdKey.PagesPerAd} + d.minute // {minutes} // {AdKey.PageBuckets},
               sum(d.clicks), sum(d.invalid_clicks)
        FROM staging_dims d JOIN ads a ON a.name = d.ad_name JOIN series x ON x.ad = a.id AND x.campaign_id = d.campaign_id
             JOIN dim_values v ON v.dim = d.dim AND v.value = d.value
        GROUP BY x.id, a.id, v.id, d.minute // {minutes}
        ON CONFLICT (series, value, bucket) DO UPDATE SET clicks = clicks + excluded.clicks, invalid_clicks = invalid_clicks + excluded.invalid_clicks
        """);

    private static string UpsertSql(string table, int minutes)
    {
        string reasonUpdates = string.Concat(InvalidReasons.Select(r => $", {ReasonColumn(r)} = {ReasonColumn(r)} + excluded.{ReasonColumn(r)}"));
        return string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO {table} (k, page, series, bucket_start, clicks, invalid_clicks{ReasonColumns()})
            SELECT x.id::BIGINT * 4294967296 + b.minute // {minutes}, a.id::BIGINT * {AdKey.PagesPerAd} + b.minute // {minutes} // {AdKey.PageBuckets}, x.id,
                   epoch_ms((b.minute // {minutes}) * {minutes * 60_000}), sum(b.clicks), sum(b.invalid_clicks){ReasonColumns("sum(b.", ")")}
            FROM staging_buckets b JOIN ads a ON a.name = b.ad_name JOIN series x ON x.ad = a.id AND x.campaign_id = b.campaign_id
            GROUP BY x.id, a.id, b.minute // {minutes}
            ON CONFLICT (k) DO UPDATE SET clicks = clicks + excluded.clicks, invalid_clicks = invalid_clicks + excluded.invalid_clicks{reasonUpdates}
            """);
    }

    /// <summary>Rollups, claims, dead letters and positions of one batch, or nothing.</summary>
    public void Commit(StoreBatch batch)
    {
        try
        {
            CommitOnce(batch);
        }
        catch
        {
            // Rolled back: the compacted days are the table's again (a day forgotten in the batch is not forgotten).
            _compacted = QuarterDays.Load(connection);
            throw;
        }
    }

    private void CommitOnce(StoreBatch batch)
    {
        using var transaction = connection.BeginTransaction();
        if (batch.Buckets.Count > 0)
        {
            WriteBuckets(batch);
        }
        if (batch.Claims.Count > 0)
        {
            using var appender = connection.CreateAppender("claims");
            foreach (var (id, claim) in batch.Claims)
            {
                appender.CreateRow()
                    .AppendValue((ulong)(id.Value >> 64))
                    .AppendValue((ulong)id.Value)
                    .AppendValue(claim.ClickTime.UtcDateTime)
                    .AppendValue(claim.Partition)
                    .AppendValue(claim.SequenceNumber)
                    .EndRow();
            }
        }
        if (batch.DeadLetters.Count > 0)
        {
            using var appender = connection.CreateAppender("dead_letters");
            foreach (var letter in batch.DeadLetters)
            {
                appender.CreateRow()
                    .AppendValue(letter.Event.Partition)
                    .AppendValue(letter.Event.SequenceNumber)
                    .AppendValue(letter.Event.EnqueuedTime.UtcDateTime)
                    .AppendValue(letter.Reason)
                    .AppendValue(letter.Event.Body.ToArray())
                    .EndRow();
            }
        }
        if (batch.Positions.Count > 0)
        {
            string values = string.Join(", ", batch.Positions.Select(p => string.Create(CultureInfo.InvariantCulture, $"({p.Key}, {p.Value})")));
            Execute(connection, $"INSERT INTO positions VALUES {values} ON CONFLICT (log_partition) DO UPDATE SET next_sequence = excluded.next_sequence");
        }
        transaction.Commit();
    }

    private void WriteBuckets(StoreBatch batch)
    {
        Execute(connection, "DELETE FROM staging_buckets");
        using (var appender = connection.CreateAppender("staging_buckets"))
        {
            foreach (var (key, counts) in batch.Buckets)
            {
                var row = appender.CreateRow()
                    .AppendValue(AdKey.Name(key.AdvertiserId, key.AdId))
                    .AppendValue(key.AdvertiserId)
                    .AppendValue(key.CampaignId)
                    .AppendValue(key.AdId)
                    .AppendValue(key.Minute.ToUnixTimeSeconds() / 60)
                    .AppendValue(counts.Clicks)
                    .AppendValue(counts.InvalidClicks);
                foreach (var reason in InvalidReasons)
                {
                    row.AppendValue(counts.InvalidByReason[(int)reason]);
                }
                row.EndRow();
            }
        }
        foreach (string upsert in Upserts)
        {
            Execute(connection, upsert);
        }
        // A bucket of a compacted day (a late click, a correction, a rebuild): the day's compacted rows no longer equal
        // its minute rows, so they go with this batch; a later pass compacts the day again (decision 104).
        if (_compacted.Count > 0)
        {
            foreach (long day in batch.Buckets.Keys.Select(k => k.Minute.ToUnixTimeSeconds() / 86_400).Distinct())
            {
                if (_compacted.Remove(day))
                {
                    QuarterDays.Forget(connection, day);
                }
            }
        }
        // The buckets' dimension values (a correction's dimension deltas too: decision 088), after the ads and series exist.
        if (!batch.Buckets.Values.Any(c => c.Dimensions is { Count: > 0 }))
        {
            return;
        }
        Execute(connection, "DELETE FROM staging_dims");
        using (var appender = connection.CreateAppender("staging_dims"))
        {
            foreach (var (key, counts) in batch.Buckets)
            {
                if (counts.Dimensions is not { } dimensions)
                {
                    continue;
                }
                string name = AdKey.Name(key.AdvertiserId, key.AdId);
                long minute = key.Minute.ToUnixTimeSeconds() / 60;
                foreach (var (dim, count) in dimensions)
                {
                    appender.CreateRow()
                        .AppendValue(name)
                        .AppendValue(key.CampaignId)
                        .AppendValue(minute)
                        .AppendValue((sbyte)dim.Dimension)
                        .AppendValue(dim.Value)
                        .AppendValue(count.Clicks)
                        .AppendValue(count.InvalidClicks)
                        .EndRow();
                }
            }
        }
        foreach (string upsert in DimensionUpserts)
        {
            Execute(connection, upsert);
        }
    }
}
