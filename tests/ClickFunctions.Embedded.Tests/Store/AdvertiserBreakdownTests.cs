using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;
using DuckDB.NET.Data;

namespace ClickFunctions.Tests.Store;

/// <summary>
/// An advertiser's breakdown reads its whole UTC days from its own day rollup and the edge quarter hours from every
/// ad's quarter rows (docs/decisions/103). Checked against sums computed here from the clicks written, with a second
/// advertiser's ads in the same minutes (whose rows must not leak in), and through the v3 → v4 migration and retention.
/// </summary>
public sealed class AdvertiserBreakdownTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-advdims-").FullName;

    private string StorePath => Path.Combine(_directory, ClickStoreOptions.FileName);

    private DuckDbClickStore Open() => new(new ClickStoreOptions { Path = StorePath });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Three ads of adv-1 (two campaigns on ad-1) and one of adv-2, clicked every 11 minutes over 6 days.</summary>
    private static Dictionary<BucketKey, BucketCounts> Clicks()
    {
        string[] countries = ["DE", "US", "IN", "FR", "BR"];
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        int n = 0;
        for (var t = Start; t < Start.AddDays(6); t = t.AddMinutes(11))
        {
            foreach (var (advertiser, campaign, ad) in new[] { ("adv-1", "cmp-1", "ad-1"), ("adv-1", "cmp-2", "ad-1"), ("adv-1", "cmp-1", "ad-2"), ("adv-1", "cmp-3", "ad-3"), ("adv-2", "cmp-1", "ad-1") })
            {
                n++;
                var counts = new BucketCounts();
                bool invalid = n % 13 == 0;
                counts.Add(invalid ? ClickReason.BotUserAgent : ClickReason.Valid);
                counts.AddDimension(ClickDimension.Country, advertiser == "adv-2" ? "JP" : countries[n % countries.Length], invalid ? 0 : 1, invalid ? 1 : 0);
                buckets.Add(new BucketKey(advertiser, campaign, ad, t), counts);
            }
        }
        return buckets;
    }

    private static List<BreakdownRow> Expected(Dictionary<BucketKey, BucketCounts> buckets, string advertiser, TimeRange range)
    {
        var rows = buckets.Where(b => b.Key.AdvertiserId == advertiser && b.Key.Minute >= range.From && b.Key.Minute < range.To)
            .SelectMany(b => b.Value.Dimensions!).GroupBy(d => d.Key.Value)
            .Select(g => new BreakdownRow(g.Key, g.Sum(d => d.Value.Clicks), g.Sum(d => d.Value.InvalidClicks))).ToList();
        rows.Sort(Breakdown.Order);
        return rows;
    }

    private static async Task<List<BreakdownRow>> AdvertiserBreakdownAsync(DuckDbClickStore store, string advertiser, TimeRange range) =>
        [.. (await store.GetBreakdownAsync(new BreakdownQuery(advertiser, null, "country", ClickDimension.Country, range, TimeZoneInfo.Utc, 100), Ct))!.Rows];

    public static TheoryData<string, string> Ranges => new()
    {
        { "2026-10-01T00:00:00Z", "2026-10-07T00:00:00Z" }, // whole days only
        { "2026-10-01T05:15:00Z", "2026-10-05T19:45:00Z" }, // days with quarter edges
        { "2026-10-02T10:00:00Z", "2026-10-02T13:30:00Z" }, // inside one day: quarters only
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public async Task An_advertisers_breakdown_sums_exactly_its_own_ads_in_the_range(string from, string to)
    {
        var buckets = Clicks();
        using var store = Open();
        store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));
        var range = new TimeRange(DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(to, System.Globalization.CultureInfo.InvariantCulture));

        var expected = Expected(buckets, "adv-1", range);
        Assert.DoesNotContain(expected, r => r.Value == "JP");
        Assert.Equal(expected, await AdvertiserBreakdownAsync(store, "adv-1", range));
        Assert.Equal(Expected(buckets, "adv-2", range), await AdvertiserBreakdownAsync(store, "adv-2", range));
    }

    [Fact]
    public async Task Batches_that_add_to_a_day_already_written_add_to_the_advertisers_day_row()
    {
        var buckets = Clicks();
        using var store = Open();
        // The same clicks in three batches (each a different third of the minutes): the day rows are upserted.
        int i = 0;
        foreach (var third in buckets.GroupBy(_ => i++ % 3))
        {
            store.Commit(new StoreBatch(third.ToDictionary(b => b.Key, b => b.Value), [], [], new Dictionary<int, long> { [0] = i }));
        }
        var range = new TimeRange(Start, Start.AddDays(6));
        Assert.Equal(Expected(buckets, "adv-1", range), await AdvertiserBreakdownAsync(store, "adv-1", range));
    }

    [Fact]
    public async Task A_version_3_store_is_migrated_to_the_advertiser_day_rollup_at_open()
    {
        var buckets = Clicks();
        using (var store = Open())
        {
            store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));
        }
        // The file as a version-3 build left it: the same tables without the advertiser's day rollup.
        Execute("DROP TABLE advertiser_dims_day; DROP TABLE clicks_quarters; DROP TABLE quarter_days; UPDATE store_info SET value = '3' WHERE name = 'schema_version'");

        using (var store = Open())
        {
            var range = new TimeRange(Start, Start.AddDays(6));
            Assert.Equal(Expected(buckets, "adv-1", range), await AdvertiserBreakdownAsync(store, "adv-1", range));
            // Later batches add to the migrated rows.
            var more = new Dictionary<BucketKey, BucketCounts>();
            var counts = new BucketCounts();
            counts.Add(ClickReason.Valid);
            counts.AddDimension(ClickDimension.Country, "DE", 1, 0);
            more.Add(new BucketKey("adv-1", "cmp-1", "ad-9", Start.AddDays(1).AddMinutes(3)), counts);
            store.Commit(new StoreBatch(more, [], [], new Dictionary<int, long> { [0] = 2 }));
            foreach (var (key, value) in more)
            {
                buckets.Add(key, value);
            }
            Assert.Equal(Expected(buckets, "adv-1", range), await AdvertiserBreakdownAsync(store, "adv-1", range));
        }
        // Migrated on through version 4 to this build's (the compaction tables of version 5 created empty).
        Assert.Equal(StoreSchema.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT value FROM store_info WHERE name = 'schema_version'"));
    }

    [Fact]
    public void Retention_of_the_day_rows_takes_the_advertisers_day_rows_with_them()
    {
        using (var store = Open())
        {
            store.Commit(new StoreBatch(Clicks(), [], [], new Dictionary<int, long> { [0] = 1 }));
            Assert.True(store.DeleteRollupBefore(Granularity.Day, Start.AddDays(3)) > 0);
        }
        long firstKept = Start.AddDays(3).ToUnixTimeSeconds() / 86_400;
        Assert.Equal("0", Scalar($"SELECT count(*) FROM advertiser_dims_day WHERE bucket < {firstKept}"));
        Assert.NotEqual("0", Scalar($"SELECT count(*) FROM advertiser_dims_day WHERE bucket >= {firstKept}"));
    }

    private void Execute(string sql)
    {
        using var connection = new DuckDBConnection($"Data Source={StorePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private string? Scalar(string sql)
    {
        using var connection = new DuckDBConnection($"Data Source={StorePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
