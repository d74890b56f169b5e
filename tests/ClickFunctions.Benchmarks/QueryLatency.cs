using System.Diagnostics;
using System.Globalization;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;
using DuckDB.NET.Data;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// Query latency on a seeded store, through the same <see cref="DuckDbClickStore"/> calls the query API makes.
/// Seeding: <c>--ads</c> ads (default 100,000) over <c>--days</c> days (default 30) of minute buckets, each ordinary
/// ad active in <c>--minutes-per-day</c> minutes a day (default 14, spread over the day), plus <c>--hot-ads</c> ads
/// (default 100) with a bucket in every minute of every day and day rows for the whole preceding year: the worst
/// case a query can meet (1,440 rows for a day at minute, 720 for a month at hour, 365 for a year at day). Rows are
/// inserted in time order, as the consumer writes them. The store is reused if <c>--dir</c> already holds one.
/// </summary>
public static class QueryLatency
{
    private static DateTimeOffset Start = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    public static int Run(string[] args)
    {
        var options = Parse(args);
        string dir = options.GetValueOrDefault("dir", Path.Combine(Path.GetTempPath(), "cf-query-bench"));
        int ads = int.Parse(options.GetValueOrDefault("ads", "100000"), CultureInfo.InvariantCulture);
        int days = int.Parse(options.GetValueOrDefault("days", "30"), CultureInfo.InvariantCulture);
        int perDay = int.Parse(options.GetValueOrDefault("minutes-per-day", "14"), CultureInfo.InvariantCulture);
        int hot = int.Parse(options.GetValueOrDefault("hot-ads", "100"), CultureInfo.InvariantCulture);
        int queries = int.Parse(options.GetValueOrDefault("queries", "2000"), CultureInfo.InvariantCulture);
        int warmup = int.Parse(options.GetValueOrDefault("warmup", "100"), CultureInfo.InvariantCulture);
        // --retention-defaults true: keep only what the embedded retention defaults keep (Retention:Minute 90 days,
        // Retention:Hour 730, Retention:Day 1825; docs/decisions/085), as a year-long host would hold it.
        bool retention = bool.Parse(options.GetValueOrDefault("retention-defaults", "false"));
        // --start: the first seeded day (UTC); the year run ends it today, so a host started on the store sees "now".
        if (options.TryGetValue("start", out string? start))
        {
            Start = DateTimeOffset.Parse(start, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        }
        // --dimensions country,device: dimension rollups (dims_quarter, dims_day) seeded for these dimensions, one
        // value per active minute and dimension (--dimension-values distinct values each), for the breakdown shapes.
        var dimensions = options.GetValueOrDefault("dimensions", "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Enum.Parse<ClickFunctions.Aggregation.ClickDimension>(d, ignoreCase: true)).ToArray();
        int dimensionValues = int.Parse(options.GetValueOrDefault("dimension-values", "20"), CultureInfo.InvariantCulture);
        // --claims N: N dedup claims over the last 24 hours, as a host at 1M clicks a day holds and loads at start.
        long claims = long.Parse(options.GetValueOrDefault("claims", "0"), CultureInfo.InvariantCulture);
        string path = Path.Combine(dir, ClickStoreOptions.FileName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(dir);
            var defaults = new ClickFunctions.Embedded.Retention.RetentionOptions();
            Seed(path, ads, days, perDay, hot, dimensions, dimensionValues, claims, retention ? defaults.Minute : null);
            if (retention)
            {
                ApplyRetentionDefaults(path, Start.AddDays(days));
            }
        }
        using var store = new DuckDbClickStore(new ClickStoreOptions { Path = path });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"store {path} ({new FileInfo(path).Length / (1024 * 1024)} MiB, memory limit {store.MemoryLimit}): minute rows {store.CountRows(Granularity.Minute):N0}, hour rows {store.CountRows(Granularity.Hour):N0}, day rows {store.CountRows(Granularity.Day):N0}"));
        var end = Start.AddDays(days);
        // --compact true (default): the closed days compacted into quarter-hour rows as the host's reconciliation pass
        // does (docs/decisions/104); the last seeded day stays open, as today's day is on a running host.
        if (bool.Parse(options.GetValueOrDefault("compact", "true")))
        {
            long compactStarted = Stopwatch.GetTimestamp();
            int compacted = store.CompactDays(end.AddDays(-1), TimeSpan.MaxValue);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"compacted {compacted} closed days in {Stopwatch.GetElapsedTime(compactStarted).TotalSeconds:F1} s (store now {new FileInfo(path).Length / (1024 * 1024)} MiB)"));
        }
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        string AdId(int ad) => "ad-" + ad.ToString(CultureInfo.InvariantCulture);
        Func<int, Func<Task<int>>> Buckets(Granularity granularity, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo? zone = null) => ad => async () =>
            (await store.GetAdClicksAsync(new AdClicksQuery(Advertiser(ad), AdId(ad), granularity, new TimeRange(from, to), zone), CancellationToken.None))?.Buckets.Count ?? 0;
        Func<int, Func<Task<int>>> AdBreakdown(ClickFunctions.Aggregation.ClickDimension dimension, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone) => ad => async () =>
            (await store.GetBreakdownAsync(new BreakdownQuery(Advertiser(ad), AdId(ad), dimension.ToString().ToLowerInvariant(), dimension, new TimeRange(from, to), zone, BreakdownQuery.DefaultLimit), CancellationToken.None))?.Rows.Count ?? 0;
        Func<int, Func<Task<int>>> AdvertiserBreakdown(ClickFunctions.Aggregation.ClickDimension dimension, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone) => ad => async () =>
            (await store.GetBreakdownAsync(new BreakdownQuery(Advertiser(ad), null, dimension.ToString().ToLowerInvariant(), dimension, new TimeRange(from, to), zone, BreakdownQuery.DefaultLimit), CancellationToken.None))?.Rows.Count ?? 0;
        // Local New York days and weeks ending at the last local midnight (Monday for weeks) before the seed's end.
        var localEnd = new DateTimeOffset(TimeZoneInfo.ConvertTime(end, newYork).Date, newYork.GetUtcOffset(TimeZoneInfo.ConvertTime(end, newYork).Date));
        DateTimeOffset LocalMidnight(DateTimeOffset local) => new(local.Date, newYork.GetUtcOffset(local.Date));
        var localDaysFrom = LocalMidnight(localEnd.AddDays(-30));
        var localWeeksEnd = LocalMidnight(localEnd.AddDays(-(((int)localEnd.DayOfWeek + 6) % 7)));
        var localWeeksFrom = LocalMidnight(localWeeksEnd.AddDays(-7 * 12));
        // Local Kolkata days (+05:30: each day's edges are half hours of minute rows) ending at the last local midnight.
        var kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
        var kolkataEnd = new DateTimeOffset(TimeZoneInfo.ConvertTime(end, kolkata).Date, kolkata.BaseUtcOffset);
        var shapes = new List<(string Name, Func<int, Func<Task<int>>> Query)>
        {
            ("a day at minute", Buckets(Granularity.Minute, end.AddDays(-1), end)),
            ("a month at hour", Buckets(Granularity.Hour, end.AddDays(-30), end)),
            ("a year at day", Buckets(Granularity.Day, end.AddDays(-365), end)),
            ("30 NY days at day", Buckets(Granularity.Day, localDaysFrom.ToUniversalTime(), localEnd.ToUniversalTime(), newYork)),
            ("12 NY weeks", Buckets(Granularity.Week, localWeeksFrom.ToUniversalTime(), localWeeksEnd.ToUniversalTime(), newYork)),
            ("30 Kolkata days at day", Buckets(Granularity.Day, kolkataEnd.AddDays(-30).ToUniversalTime(), kolkataEnd.ToUniversalTime(), kolkata)),
        };
        if (dimensions.Length > 0)
        {
            var dimension = dimensions[0];
            shapes.Add(($"ad by {dimension}, 30 days UTC", AdBreakdown(dimension, end.AddDays(-30), end, TimeZoneInfo.Utc)));
            shapes.Add(($"ad by {dimension}, 30 NY days", AdBreakdown(dimension, localDaysFrom.ToUniversalTime(), localEnd.ToUniversalTime(), newYork)));
            shapes.Add(($"ad by {dimension}, a year UTC", AdBreakdown(dimension, end.AddDays(-365), end, TimeZoneInfo.Utc)));
            shapes.Add(($"advertiser by {dimension}, 30 days", AdvertiserBreakdown(dimension, end.AddDays(-30), end, TimeZoneInfo.Utc)));
            shapes.Add(($"advertiser by {dimension}, 30 NY days", AdvertiserBreakdown(dimension, localDaysFrom.ToUniversalTime(), localEnd.ToUniversalTime(), newYork)));
        }
        // --shapes "a|b": the shapes whose names contain any of the alternatives.
        string only = options.GetValueOrDefault("shapes", "");
        Console.WriteLine("shape                            ads       rows/query  p50 ms  p99 ms  max ms");
        foreach (var (name, query) in shapes.Where(s => only.Length == 0 || only.Split('|').Any(o => s.Name.Contains(o, StringComparison.OrdinalIgnoreCase))))
        {
            foreach (bool hotAds in new[] { true, false })
            {
                var random = new Random(7);
                // Advertiser breakdowns are ~100x the work of an ad's; a tenth of the queries keeps the run short.
                int count = name.StartsWith("advertiser", StringComparison.Ordinal) ? Math.Max(100, queries / 10) : queries;
                var latencies = new List<double>(count);
                long rows = 0;
                for (int i = -Math.Min(warmup, count / 10); i < count; i++)
                {
                    int ad = hotAds ? random.Next(hot) : hot + random.Next(ads - hot);
                    var run = query(ad);
                    long started = Stopwatch.GetTimestamp();
                    int returned = run().GetAwaiter().GetResult();
                    double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (i >= 0)
                    {
                        latencies.Add(ms);
                        rows += returned;
                    }
                }
                latencies.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-32} {(hotAds ? "hot" : "ordinary"),-8} {rows / (double)count,10:F0}  {latencies[latencies.Count / 2],6:F2}  {latencies[(int)(latencies.Count * 0.99)],6:F2}  {latencies[^1],6:F2}"));
            }
        }
        return 0;
    }

    private static string Advertiser(int ad) => "adv-" + (ad % 1000).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// With <paramref name="minuteRetention"/> set, minute rows (and quarter-hour dimension rows) older than it are
    /// never written, since retention would delete them at once; the floors are then recorded by
    /// <see cref="ApplyRetentionDefaults"/> as the host's sweep records them.
    /// </summary>
    private static void Seed(string path, int ads, int days, int perDay, int hot, ClickFunctions.Aggregation.ClickDimension[] dimensions, int dimensionValues, long claims, TimeSpan? minuteRetention)
    {
        var watch = Stopwatch.StartNew();
        using (new DuckDbClickStore(new ClickStoreOptions { Path = path }))
        {
            // Creates the schema the store expects.
        }
        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
        using (var limits = connection.CreateCommand())
        {
            // A shared machine: bounded memory (DuckDB spills past it) and no more threads than cores.
            limits.CommandText = "SET memory_limit = '8GB'; SET threads = 2";
            limits.ExecuteNonQuery();
        }
        void Execute(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.CommandTimeout = 0;
            command.ExecuteNonQuery();
            Console.WriteLine($"  {watch.Elapsed:mm\\:ss} {sql.Split('\n')[0].Trim()}");
        }
        // Dense ids as the store assigns them: ad i is ads.id i + 1 with one campaign, series id i + 1.
        Execute("CREATE TABLE seed_ads (id INTEGER, name VARCHAR, advertiser_id VARCHAR, ad_id VARCHAR, hot BOOLEAN)");
        using (var appender = connection.CreateAppender("seed_ads"))
        {
            for (int ad = 0; ad < ads; ad++)
            {
                string adId = "ad-" + ad.ToString(CultureInfo.InvariantCulture);
                appender.CreateRow().AppendValue(ad + 1).AppendValue(AdKey.Name(Advertiser(ad), adId)).AppendValue(Advertiser(ad)).AppendValue(adId).AppendValue(ad < hot).EndRow();
            }
        }
        long startMinute = Start.ToUnixTimeSeconds() / 60;
        int step = 1440 / perDay;
        Execute(string.Create(CultureInfo.InvariantCulture, $"""
            CREATE TABLE seed_minutes AS
            SELECT id, m, (1 + hash(id, m) % 5)::BIGINT AS clicks, (hash(m, id) % 2)::BIGINT AS invalid FROM (
                SELECT a.id, {startMinute} + d * 1440 + j * {step} + (hash(a.id, d, j) % {step})::BIGINT AS m
                FROM seed_ads a, range({days}) t(d), range({perDay}) u(j) WHERE NOT a.hot
                UNION ALL
                SELECT a.id, {startMinute} + i AS m FROM seed_ads a, range({days * 1440}) r(i) WHERE a.hot)
            """));
        long endMinute = startMinute + days * 1440L;
        long keptFrom = minuteRetention is { } kept ? Math.Max(startMinute, endMinute - (long)kept.TotalMinutes) : startMinute;
        foreach (var (table, minutes) in new[] { ("clicks_minute", 1), ("clicks_hour", 60), ("clicks_day", 1440) })
        {
            string where = minutes == 1 && keptFrom > startMinute ? string.Create(CultureInfo.InvariantCulture, $"WHERE m >= {keptFrom}") : "";
            // Invalid clicks are all bot user agents here, so invalidByReason sums to invalidClicks as the host writes it.
            Execute(string.Create(CultureInfo.InvariantCulture, $"""
                INSERT INTO {table} (k, page, series, bucket_start, clicks, invalid_clicks, invalid_bot_user_agent)
                SELECT id::BIGINT * 4294967296 + m // {minutes}, id::BIGINT * {AdKey.PagesPerAd} + m // {minutes} // {AdKey.PageBuckets}, id, epoch_ms((m // {minutes}) * {minutes * 60_000}), sum(clicks), sum(invalid), sum(invalid)
                FROM seed_minutes {where} GROUP BY id, m // {minutes} ORDER BY m // {minutes}
                """));
        }
        if (dimensions.Length > 0)
        {
            Execute(string.Create(CultureInfo.InvariantCulture, $"""
                INSERT INTO dim_values SELECT row_number() OVER (ORDER BY d, v)::INTEGER, d, v FROM (
                    SELECT d::TINYINT AS d, 'v' || v AS v FROM (VALUES {string.Join(", ", dimensions.Select(d => $"({(int)d})"))}) t(d), range({dimensionValues}) r(v))
                """));
            string dims = string.Join(", ", dimensions.Select(d => $"({(int)d})"));
            foreach (var (table, minutes) in new[] { ("dims_quarter", 15), ("dims_day", 1440) })
            {
                string where = minutes == 15 && keptFrom > startMinute ? string.Create(CultureInfo.InvariantCulture, $"AND m >= {keptFrom}") : "";
                // Each active minute's clicks have one value per dimension, skewed towards the low values (a few
                // countries and devices carry most clicks).
                Execute(string.Create(CultureInfo.InvariantCulture, $"""
                    INSERT INTO {table} (series, value, bucket, page, clicks, invalid_clicks)
                    SELECT s.id, v.id, (s.m // {minutes})::INTEGER, s.id::BIGINT * {AdKey.PagesPerAd} + s.m // {minutes} // {AdKey.PageBuckets}, sum(s.clicks), sum(s.invalid)
                    FROM seed_minutes s, (VALUES {dims}) t(d), dim_values v
                    WHERE v.dim = t.d AND v.value = 'v' || ((hash(s.id, s.m, t.d) % {dimensionValues}) * (hash(s.m, t.d) % {dimensionValues}) // {dimensionValues}) {where}
                    GROUP BY s.id, v.id, s.m // {minutes} ORDER BY s.m // {minutes}
                    """));
            }
            // The advertiser's day rollup, the sum of its ads' day rows as the writer keeps it (decision 103).
            Execute("""
                INSERT INTO advertiser_dims_day (advertiser, value, bucket, clicks, invalid_clicks)
                SELECT a.advertiser_id, d.value, d.bucket, sum(d.clicks), sum(d.invalid_clicks)
                FROM dims_day d JOIN seed_ads a ON a.id = d.series GROUP BY a.advertiser_id, d.value, d.bucket ORDER BY d.bucket
                """);
        }
        if (claims > 0)
        {
            // Ids are random 128-bit values; click times spread over the last 24 hours of the seed.
            Execute(string.Create(CultureInfo.InvariantCulture, $"""
                INSERT INTO claims SELECT hash(i, 1), hash(i, 2), epoch_ms(({endMinute}::BIGINT - 1440) * 60000 + i * 86400000 // {claims}), '0', i FROM range({claims}) r(i)
                """));
        }
        long startDay = startMinute / 1440;
        Execute(string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO clicks_day (k, page, series, bucket_start, clicks, invalid_clicks)
            SELECT id::BIGINT * 4294967296 + ({startDay} - 1 - i), id::BIGINT * {AdKey.PagesPerAd} + ({startDay} - 1 - i) // {AdKey.PageBuckets}, id, epoch_ms(({startDay} - 1 - i) * 86400000), 100, 3
            FROM seed_ads, range({Math.Max(0, 365 - days)}) r(i) WHERE hot
            """));
        Execute("INSERT INTO ads SELECT id, name, advertiser_id, ad_id FROM seed_ads");
        Execute("INSERT INTO series SELECT id, id, 'cmp' FROM seed_ads");
        Execute("DROP TABLE seed_minutes");
        Execute("DROP TABLE seed_ads");
        Execute("CHECKPOINT");
        Console.WriteLine($"seeded in {watch.Elapsed}");
    }

    /// <summary>Deletes what the host's retention sweep would at <paramref name="now"/>, with the store's own call, then checkpoints.</summary>
    private static void ApplyRetentionDefaults(string path, DateTimeOffset now)
    {
        var watch = Stopwatch.StartNew();
        var defaults = new ClickFunctions.Embedded.Retention.RetentionOptions();
        using var store = new DuckDbClickStore(new ClickStoreOptions { Path = path });
        long minutes = store.DeleteRollupBefore(Granularity.Minute, now - defaults.Minute);
        long hours = store.DeleteRollupBefore(Granularity.Hour, now - defaults.Hour);
        long days = store.DeleteRollupBefore(Granularity.Day, now - defaults.Day);
        store.Checkpoint();
        Console.WriteLine($"retention defaults applied in {watch.Elapsed}: {minutes:N0} minute, {hours:N0} hour, {days:N0} day rows deleted");
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }
        return options;
    }
}
