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
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

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
        string path = Path.Combine(dir, ClickStoreOptions.FileName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(dir);
            Seed(path, ads, days, perDay, hot);
            if (retention)
            {
                ApplyRetentionDefaults(path, Start.AddDays(days));
            }
        }
        using var store = new DuckDbClickStore(new ClickStoreOptions { Path = path });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"store {path} ({new FileInfo(path).Length / (1024 * 1024)} MiB): minute rows {store.CountRows(Granularity.Minute):N0}, hour rows {store.CountRows(Granularity.Hour):N0}, day rows {store.CountRows(Granularity.Day):N0}"));
        var end = Start.AddDays(days);
        var shapes = new (string Name, Granularity Granularity, DateTimeOffset From, DateTimeOffset To)[]
        {
            ("a day at minute", Granularity.Minute, end.AddDays(-1), end),
            ("a month at hour", Granularity.Hour, end.AddDays(-30), end),
            ("a year at day", Granularity.Day, end.AddDays(-365), end),
        };
        Console.WriteLine("shape              ads      rows/query  p50 ms  p99 ms  max ms");
        foreach (var (name, granularity, from, to) in shapes)
        {
            foreach (bool hotAds in new[] { true, false })
            {
                var random = new Random(7);
                var latencies = new List<double>(queries);
                long rows = 0;
                for (int i = -warmup; i < queries; i++)
                {
                    int ad = hotAds ? random.Next(hot) : hot + random.Next(ads - hot);
                    var query = new AdClicksQuery(Advertiser(ad), "ad-" + ad.ToString(CultureInfo.InvariantCulture), granularity, new TimeRange(from, to));
                    long started = Stopwatch.GetTimestamp();
                    var result = store.GetAdClicksAsync(query, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                    double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (i >= 0)
                    {
                        latencies.Add(ms);
                        rows += result?.Buckets.Count ?? 0;
                    }
                }
                latencies.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-18} {(hotAds ? "hot" : "ordinary"),-8} {rows / (double)queries,10:F0}  {latencies[latencies.Count / 2],6:F2}  {latencies[(int)(latencies.Count * 0.99)],6:F2}  {latencies[^1],6:F2}"));
            }
        }
        return 0;
    }

    private static string Advertiser(int ad) => "adv-" + (ad % 1000).ToString(CultureInfo.InvariantCulture);

    private static void Seed(string path, int ads, int days, int perDay, int hot)
    {
        var watch = Stopwatch.StartNew();
        using (new DuckDbClickStore(new ClickStoreOptions { Path = path }))
        {
            // Creates the schema the store expects.
        }
        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
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
        foreach (var (table, minutes) in new[] { ("clicks_minute", 1), ("clicks_hour", 60), ("clicks_day", 1440) })
        {
            Execute(string.Create(CultureInfo.InvariantCulture, $"""
                INSERT INTO {table} (k, page, series, bucket_start, clicks, invalid_clicks)
                SELECT id::BIGINT * 4294967296 + m // {minutes}, id::BIGINT * {AdKey.PagesPerAd} + m // {minutes} // {AdKey.PageBuckets}, id, epoch_ms((m // {minutes}) * {minutes * 60_000}), sum(clicks), sum(invalid)
                FROM seed_minutes GROUP BY id, m // {minutes} ORDER BY m // {minutes}
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
