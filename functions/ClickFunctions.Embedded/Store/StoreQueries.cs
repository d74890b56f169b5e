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
        if (AdId(connection, query.AdvertiserId, query.AdId) is not { } ad)
        {
            return null;
        }
        // One snapshot for every read: a batch that forgets a compacted day between them cannot hide its clicks.
        using var transaction = connection.BeginTransaction();
        // Local buckets in any zone are tiled by UTC minute, hour and day rows (AdClicksPlan). Inside compacted days
        // (decision 104) the hour ranges and the whole quarter hours of the minute ranges come from one row per day;
        // the rest from each rollup's rows, read by pages of the ad.
        var plan = new AdClicksPlan(query);
        var sources = Sources.Split(plan, CompactedDays(connection, transaction, plan));
        var slots = new long[BucketCounts.ReasonSlots];
        foreach (var rollup in Granularities.CoarsestFirst)
        {
            var ranges = sources.Rows[(int)rollup];
            if (ranges.Count == 0)
            {
                continue;
            }
            var (_, table, minutes) = Rollups[(int)rollup];
            long bucketSeconds = minutes * 60L;
            var pages = new SortedSet<long>();
            foreach (var range in ranges)
            {
                long first = range.From.ToUnixTimeSeconds() / bucketSeconds / AdKey.PageBuckets;
                long last = (range.To.ToUnixTimeSeconds() / bucketSeconds - 1) / AdKey.PageBuckets;
                for (long page = first; page <= last; page++)
                {
                    pages.Add(AdKey.PageKey(ad, page));
                }
            }
            // One equality lookup per page of the index on `page` (every campaign of the ad shares its pages): DuckDB
            // answers those from the ART index, while a range or IN filter, or any second predicate, makes it scan the
            // table. The ranges filter the rows; only numeric columns are fetched (the bucket number is in the key).
            ReadPages(connection, transaction, table, "k, clicks" + ReasonColumns(), pages, reader =>
            {
                long bucket = reader.GetInt64(0) & AdKey.BucketMask;
                Array.Clear(slots);
                for (int i = 0; i < StoreSchema.InvalidReasons.Length; i++)
                {
                    slots[(int)StoreSchema.InvalidReasons[i]] = reader.GetInt64(2 + i);
                }
                plan.AddWithin(ranges, DateTimeOffset.FromUnixTimeSeconds(bucket * bucketSeconds), reader.GetInt64(1), slots);
            });
        }
        if (sources.Quarters.Count > 0)
        {
            var pages = new SortedSet<long>();
            foreach (var range in sources.Quarters)
            {
                for (long day = range.From.ToUnixTimeSeconds() / 86_400; day <= (range.To.ToUnixTimeSeconds() - 1) / 86_400; day++)
                {
                    pages.Add(QuarterDays.PageKey(ad, day));
                }
            }
            ReadPages(connection, transaction, "clicks_quarters", "k, quarters", pages, reader =>
            {
                long dayStart = (reader.GetInt64(0) & AdKey.BucketMask) * 86_400;
                using var stream = reader.GetStream(1);
                var blob = new byte[stream.Length];
                stream.ReadExactly(blob);
                var quarters = new QuarterDays.Reader(blob);
                while (quarters.Next(out int quarter, out long clicks, slots))
                {
                    plan.AddWithin(sources.Quarters, DateTimeOffset.FromUnixTimeSeconds(dayStart + quarter * 900L), clicks, slots);
                }
            });
        }
        var confirmed = ConfirmedWindows(connection, transaction);
        transaction.Commit();
        return plan.Build(confirmed);
    }

    private static void ReadPages(DuckDBConnection connection, DuckDBTransaction transaction, string table, string columns, SortedSet<long> pages, Action<DuckDBDataReader> row)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var sql = new StringBuilder();
        int n = 0;
        foreach (long page in pages)
        {
            string name = "p" + n.ToString(CultureInfo.InvariantCulture);
            sql.Append(n++ == 0 ? "" : " UNION ALL ").Append(CultureInfo.InvariantCulture, $"SELECT {columns} FROM {table} WHERE page = ${name}");
            command.Parameters.Add(new DuckDBParameter(name, page));
        }
        command.CommandText = sql.ToString();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            row(reader);
        }
    }

    /// <summary>The compacted days among those the plan's minute and hour ranges touch.</summary>
    private static HashSet<long> CompactedDays(DuckDBConnection connection, DuckDBTransaction transaction, AdClicksPlan plan)
    {
        var sub = plan.RangesOf(Granularity.Hour).Concat(plan.RangesOf(Granularity.Minute)).ToList();
        // A quarter hour is added to the bucket it starts in: only right when no bucket boundary falls inside one.
        if (sub.Count == 0 || !plan.OnQuarterHours)
        {
            return [];
        }
        return QuarterDays.Load(connection, transaction, sub.Min(r => r.From).ToUnixTimeSeconds() / 86_400, (sub.Max(r => r.To).ToUnixTimeSeconds() + 86_399) / 86_400);
    }

    /// <summary>
    /// Which rows answer which parts of a plan: per rollup the ranges still read from its rows, and the quarter-aligned
    /// ranges read from compacted days (each part of the plan from exactly one source).
    /// </summary>
    internal sealed record Sources(List<TimeRange>[] Rows, List<TimeRange> Quarters)
    {
        private const long Day = 86_400, Quarter = 900;

        public static Sources Split(AdClicksPlan plan, IReadOnlySet<long> compacted)
        {
            var rows = new List<TimeRange>[3];
            var quarters = new List<TimeRange>();
            rows[(int)Granularity.Day] = [.. plan.RangesOf(Granularity.Day)];
            foreach (var rollup in new[] { Granularity.Hour, Granularity.Minute })
            {
                var list = rows[(int)rollup] = [];
                foreach (var range in plan.RangesOf(rollup))
                {
                    long from = range.From.ToUnixTimeSeconds(), to = range.To.ToUnixTimeSeconds();
                    for (long at = from; at < to;)
                    {
                        long day = at / Day, pieceEnd = Math.Min(to, (day + 1) * Day);
                        if (!compacted.Contains(day))
                        {
                            Append(list, at, pieceEnd);
                        }
                        else
                        {
                            // Hour ranges are whole quarters; a minute range keeps its minutes outside whole quarters.
                            long inner = (at + Quarter - 1) / Quarter * Quarter, innerEnd = pieceEnd / Quarter * Quarter;
                            if (inner < innerEnd)
                            {
                                Append(list, at, inner);
                                Append(quarters, inner, innerEnd);
                                Append(list, innerEnd, pieceEnd);
                            }
                            else
                            {
                                Append(list, at, pieceEnd);
                            }
                        }
                        at = pieceEnd;
                    }
                }
            }
            quarters.Sort((a, b) => a.From.CompareTo(b.From));
            var merged = new List<TimeRange>(quarters.Count);
            foreach (var q in quarters)
            {
                Append(merged, q.From.ToUnixTimeSeconds(), q.To.ToUnixTimeSeconds());
            }
            return new Sources(rows, merged);
        }

        private static void Append(List<TimeRange> list, long from, long to)
        {
            if (from >= to)
            {
                return;
            }
            var start = DateTimeOffset.FromUnixTimeSeconds(from);
            var end = DateTimeOffset.FromUnixTimeSeconds(to);
            if (list.Count > 0 && list[^1].To == start)
            {
                list[^1] = new TimeRange(list[^1].From, end);
            }
            else
            {
                list.Add(new TimeRange(start, end));
            }
        }
    }

    /// <summary>The windows a reconciliation matched or corrected (its buckets are final).</summary>
    public static List<TimeRange> ConfirmedWindows(DuckDBConnection connection, DuckDBTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT window_from, window_to FROM reconciled_windows";
        var windows = new List<TimeRange>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            windows.Add(new TimeRange(new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc)), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc))));
        }
        return AdClicksPlan.Merge(windows);
    }

    /// <summary>
    /// A breakdown: by a dimension from the quarter-hour and day dimension rollups (whole UTC days inside the range
    /// from the day rows, the quarters at its edges from the quarter rows), or by ad or campaign from the bucket
    /// rollups. Null when the query names an ad the advertiser never had.
    /// </summary>
    public static Breakdown? GetBreakdown(DuckDBConnection connection, BreakdownQuery query)
    {
        int? ad = null;
        if (query.AdId is not null)
        {
            if (AdId(connection, query.AdvertiserId, query.AdId) is not { } id)
            {
                return null;
            }
            ad = id;
        }
        var rows = query.Dimension is { } dimension
            ? DimensionRows(connection, query, dimension, ad)
            : AdOrCampaignRows(connection, query);
        return Breakdown.Create(query, rows);
    }

    /// <summary>(table, first bucket, end bucket) pieces of the dimension rollups that tile the query's range exactly.</summary>
    public static List<(string Table, long First, long End)> DimensionPieces(BreakdownQuery query)
    {
        const long QuarterSeconds = 900, DaySeconds = 86_400;
        long from = query.Range.From.ToUnixTimeSeconds(), to = query.Range.To.ToUnixTimeSeconds();
        long firstDay = (from + DaySeconds - 1) / DaySeconds, endDay = to / DaySeconds;
        var pieces = new List<(string Table, long First, long End)>();
        if (firstDay < endDay)
        {
            pieces.Add(("dims_day", firstDay, endDay));
            pieces.Add(("dims_quarter", from / QuarterSeconds, firstDay * DaySeconds / QuarterSeconds));
            pieces.Add(("dims_quarter", endDay * DaySeconds / QuarterSeconds, to / QuarterSeconds));
        }
        else
        {
            pieces.Add(("dims_quarter", from / QuarterSeconds, to / QuarterSeconds));
        }
        return pieces;
    }

    /// <summary>The first instant a piece reads.</summary>
    public static DateTimeOffset PieceStart((string Table, long First, long End) piece) =>
        DateTimeOffset.FromUnixTimeSeconds(piece.First * (piece.Table == "dims_day" ? 86_400 : 900));

    private static List<BreakdownRow> DimensionRows(DuckDBConnection connection, BreakdownQuery query, ClickDimension dimension, int? ad)
    {
        var pieces = DimensionPieces(query);
        using var command = connection.CreateCommand();
        // One ad: the reads are materialized before the dimension join, so that each keeps the filter chosen for it.
        // DuckDB answers `page = X` from the ART index only when that equality is the scan's sole filter; a bucket
        // range or the join's dynamic filter in the same scan turns it into a sequential scan of the rollup. The
        // day rows are read by page alone (the index: a page holds at most 1,024 days of the ad). The quarter rows
        // at the range's edges (less than a day each) are read by page and bucket range: a scan that the
        // bucket's zone maps cut to the few row groups written in those hours, because rows are appended in time
        // order, where a busy ad's page of 1,024 quarters would be thousands of scattered row fetches (measured on
        // the 100,000-ad store, docs/benchmarks.md). The advertiser's breakdown reads bucket ranges: its whole days
        // from its own day rollup, the edge quarters of every ad of it.
        var sql = new StringBuilder(ad is null ? "SELECT v.value, sum(r.clicks)::BIGINT, sum(r.invalid_clicks)::BIGINT FROM (" : "WITH r AS MATERIALIZED (");
        int part = 0;
        foreach (var (table, first, end) in pieces.Where(p => p.First < p.End))
        {
            string b = part.ToString(CultureInfo.InvariantCulture);
            if (ad is { } adId)
            {
                // One ad: its pages (day rows by the index alone, quarter rows with their bucket range, see above).
                for (long page = first / AdKey.PageBuckets; page <= (end - 1) / AdKey.PageBuckets; page++)
                {
                    string p = b + "_" + page.ToString(CultureInfo.InvariantCulture);
                    sql.Append(part++ == 0 ? "" : " UNION ALL ")
                        .Append(CultureInfo.InvariantCulture, $"SELECT value, bucket, clicks, invalid_clicks, {first} AS lo, {end} AS hi FROM {table} WHERE page = $p{p}")
                        .Append(table == "dims_quarter" ? string.Create(CultureInfo.InvariantCulture, $" AND bucket >= {first} AND bucket < {end}") : "");
                    command.Parameters.Add(new DuckDBParameter("p" + p, AdKey.PageKey(adId, page)));
                }
            }
            else if (table == "dims_day")
            {
                // The advertiser's whole days from its own day rollup (decision 103): a bucket range the zone maps cut
                // to those days' row groups, of one row per advertiser and value a day instead of every ad's.
                sql.Append(part++ == 0 ? "" : " UNION ALL ")
                    .Append(CultureInfo.InvariantCulture, $"SELECT value, bucket, clicks, invalid_clicks, {first} AS lo, {end} AS hi FROM advertiser_dims_day WHERE bucket >= {first} AND bucket < {end} AND advertiser = $advertiser");
            }
            else
            {
                // The quarter hours at the edges (less than a day each): every ad's rows in those hours, the same cut.
                sql.Append(part++ == 0 ? "" : " UNION ALL ")
                    .Append(CultureInfo.InvariantCulture, $"SELECT value, bucket, clicks, invalid_clicks, {first} AS lo, {end} AS hi FROM {table} t WHERE bucket >= {first} AND bucket < {end} AND t.series IN (SELECT x.id FROM series x JOIN ads a ON a.id = x.ad WHERE a.advertiser_id = $advertiser)");
            }
        }
        if (part == 0)
        {
            return [];
        }
        sql.Append(ad is null ? ") r" : ") SELECT v.value, sum(r.clicks)::BIGINT, sum(r.invalid_clicks)::BIGINT FROM r")
            .Append(" JOIN dim_values v ON v.id = r.value WHERE v.dim = $dim AND r.bucket >= r.lo AND r.bucket < r.hi GROUP BY v.value");
        command.CommandText = sql.ToString();
        command.Parameters.Add(new DuckDBParameter("dim", (sbyte)dimension));
        if (ad is null)
        {
            command.Parameters.Add(new DuckDBParameter("advertiser", query.AdvertiserId));
        }
        var rows = new List<BreakdownRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(new BreakdownRow(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
        }
        return rows;
    }

    private static List<BreakdownRow> AdOrCampaignRows(DuckDBConnection connection, BreakdownQuery query)
    {
        var ads = ListAds(connection, new AdvertiserAdsQuery(query.AdvertiserId, query.Range));
        return [.. ads.GroupBy(a => query.By == BreakdownQuery.Ad ? a.AdId : a.CampaignId, StringComparer.Ordinal)
            .Select(g => new BreakdownRow(g.Key, g.Sum(a => a.Clicks), g.Sum(a => a.InvalidClicks)))];
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
            for (int i = 0; i < StoreSchema.InvalidReasons.Length; i++)
            {
                counts.InvalidByReason[(int)StoreSchema.InvalidReasons[i]] = reader.GetInt64(5 + i);
            }
            buckets[new BucketKey(reader.GetString(0), reader.GetString(1), reader.GetString(2), minute)] = counts;
        }
        return buckets;
    }
}
