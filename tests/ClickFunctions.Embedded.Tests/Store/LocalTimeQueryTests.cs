using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;

namespace ClickFunctions.Tests.Store;

/// <summary>
/// Local-time buckets answered by the real DuckDB store, checked against an independent calculation: Python's
/// zoneinfo (the IANA tz database) groups the same click minutes into local hours and days in a separate process.
/// </summary>
public sealed class LocalTimeQueryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-tz-").FullName;

    private DuckDbClickStore Open() => new(new ClickStoreOptions { Path = Path.Combine(_directory, ClickStoreOptions.FileName) });

    /// <summary>One valid click every 7 minutes, and one bot click every 30th of those, in [from, to).</summary>
    private static (Dictionary<BucketKey, BucketCounts> Buckets, List<long> Minutes) Clicks(DateTimeOffset from, DateTimeOffset to)
    {
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        var minutes = new List<long>();
        int n = 0;
        for (var t = from; t < to; t = t.AddMinutes(7), n++)
        {
            var counts = new BucketCounts();
            counts.Add(n % 30 == 0 ? ClickReason.BotUserAgent : ClickReason.Valid);
            counts.AddDimension(ClickDimension.Country, n % 3 == 0 ? "DE" : n % 3 == 1 ? "US" : "IN", n % 30 == 0 ? 0 : 1, n % 30 == 0 ? 1 : 0);
            buckets.Add(new BucketKey("adv-1", "cmp-1", "ad-1", t), counts);
            minutes.Add(t.ToUnixTimeSeconds() / 60);
        }
        return (buckets, minutes);
    }

    public static TheoryData<string, string, string, string> Cases => new()
    {
        // DST spring forward (2026-03-08, a 23-hour day) and fall back (2026-11-01, 25 hours) in New York.
        { "America/New_York", "day", "2026-03-06", "2026-03-11" },
        { "America/New_York", "hour", "2026-03-07", "2026-03-10" },
        { "America/New_York", "day", "2026-10-30", "2026-11-04" },
        { "America/New_York", "hour", "2026-10-31", "2026-11-03" },
        // +05:30 and +05:45: local hours and days start at UTC :30 and :15.
        { "Asia/Kolkata", "hour", "2026-05-01", "2026-05-03" },
        { "Asia/Kolkata", "day", "2026-04-27", "2026-05-05" },
        { "Asia/Kathmandu", "hour", "2026-05-01", "2026-05-03" },
        { "Asia/Kathmandu", "day", "2026-04-27", "2026-05-05" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Local_hour_and_day_buckets_match_pythons_zoneinfo(string zoneId, string unit, string fromDate, string toDate)
    {
        var zone = LocalCalendar.FindZone(zoneId)!;
        Assert.True(QueryParameters.TryAdClicks("adv-1", "ad-1", fromDate, toDate, unit, zoneId, null, out var query, out var problem), problem);
        // Clicks from a day before to a day after, so the range's own edges are tested too.
        var (buckets, minutes) = Clicks(query.Range.From.AddDays(-1), query.Range.To.AddDays(1));
        using var store = Open();
        store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));

        var answer = (await store.GetAdClicksAsync(query, TestContext.Current.CancellationToken))!;

        var inRange = minutes.Where(m => m * 60 >= query.Range.From.ToUnixTimeSeconds() && m * 60 < query.Range.To.ToUnixTimeSeconds());
        var expected = ZoneInfoBuckets.Python(zoneId, unit, inRange);
        var actual = answer.Buckets.Select(b => $"{OffsetTimeJsonConverter.Format(b.Start)} {b.Clicks + b.InvalidClicks}").ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(zoneId, answer.TimeZone);
        Assert.Equal(zone.GetUtcOffset(query.Range.From), answer.From.Offset);
        // invalidByReason sums to invalidClicks in every bucket and in the total.
        Assert.All(answer.Buckets, b => Assert.Equal(b.InvalidClicks, b.InvalidByReason.Values.Sum()));
        Assert.Equal(answer.Total.InvalidClicks, answer.Total.InvalidByReason.Values.Sum());
        Assert.Equal(answer.Buckets.Sum(b => b.InvalidClicks), answer.Total.InvalidByReason["bot_user_agent"]);
        Assert.True(answer.Total.InvalidClicks > 0);
    }

    [Fact]
    public void The_dst_days_of_new_york_are_23_and_25_hours_long()
    {
        var zone = LocalCalendar.FindZone("America/New_York")!;
        Assert.True(QueryParameters.TryAdClicks("adv-1", "ad-1", "2026-03-08", "2026-03-09", "hour", "America/New_York", null, out var spring, out _));
        Assert.True(QueryParameters.TryAdClicks("adv-1", "ad-1", "2026-11-01", "2026-11-02", "hour", "America/New_York", null, out var fall, out _));
        Assert.Equal(23, LocalCalendar.Boundaries(zone, Granularity.Hour, spring.Range).Count - 1);
        Assert.Equal(25, LocalCalendar.Boundaries(zone, Granularity.Hour, fall.Range).Count - 1);
        Assert.Equal("2026-03-08T00:00:00-05:00", OffsetTimeJsonConverter.Format(LocalCalendar.InZone(zone, spring.Range.From)));
        Assert.Equal("2026-03-09T00:00:00-04:00", OffsetTimeJsonConverter.Format(LocalCalendar.InZone(zone, spring.Range.To)));
    }

    [Fact]
    public async Task Weeks_start_on_monday_and_months_on_the_first_in_the_zone()
    {
        Assert.True(QueryParameters.TryAdClicks("adv-1", "ad-1", "2026-02-23", "2026-03-16", "week", "America/New_York", null, out var weeks, out var p1), p1);
        Assert.True(QueryParameters.TryAdClicks("adv-1", "ad-1", "2026-01-01", "2026-04-01", "month", "America/New_York", null, out var months, out var p2), p2);
        Assert.False(QueryParameters.TryAdClicks("adv-1", "ad-1", "2026-02-24", "2026-03-16", "week", "America/New_York", null, out _, out var notMonday));
        Assert.Contains("2026-02-23T00:00:00-05:00", notMonday, StringComparison.Ordinal);
        var (buckets, _) = Clicks(months.Range.From, months.Range.To);
        using var store = Open();
        store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));
        var ct = TestContext.Current.CancellationToken;

        var byWeek = (await store.GetAdClicksAsync(weeks, ct))!;
        var byMonth = (await store.GetAdClicksAsync(months, ct))!;

        Assert.Equal(["2026-02-23T00:00:00-05:00", "2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00"], byWeek.Buckets.Select(b => OffsetTimeJsonConverter.Format(b.Start)));
        Assert.Equal(["2026-01-01T00:00:00-05:00", "2026-02-01T00:00:00-05:00", "2026-03-01T00:00:00-05:00"], byMonth.Buckets.Select(b => OffsetTimeJsonConverter.Format(b.Start)));
        // The week of the spring-forward day (2026-03-02 to 03-09) is an hour short: 8 or 9 clicks (one per 7 minutes) fewer.
        long week1 = byWeek.Buckets[1].Clicks + byWeek.Buckets[1].InvalidClicks, week2 = byWeek.Buckets[2].Clicks + byWeek.Buckets[2].InvalidClicks;
        Assert.InRange(week2 - week1, 8, 9);
        Assert.Equal(buckets.Values.Sum(c => c.Clicks), byMonth.Total.Clicks);
    }

    [Fact]
    public async Task Buckets_inside_a_confirmed_window_are_final_and_the_others_not()
    {
        var day = new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
        var (buckets, _) = Clicks(day, day.AddDays(2));
        using var store = Open();
        store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));
        var query = new AdClicksQuery("adv-1", "ad-1", Granularity.Hour, new TimeRange(day, day.AddDays(2)));
        var ct = TestContext.Current.CancellationToken;

        var before = (await store.GetAdClicksAsync(query, ct))!;
        store.RecordConfirmedWindow(day, day.AddHours(30).AddMinutes(30));
        var after = (await store.GetAdClicksAsync(query, ct))!;

        Assert.Null(before.FinalThrough);
        Assert.All(before.Buckets, b => Assert.False(b.Final));
        Assert.Equal(day.AddHours(30).AddMinutes(30), after.FinalThrough);
        Assert.All(after.Buckets, b => Assert.Equal(b.Start.AddHours(1) <= day.AddHours(30).AddMinutes(30), b.Final));
        Assert.Equal(30, after.Buckets.Count(b => b.Final));
    }

    [Fact]
    public async Task A_breakdown_orders_by_valid_clicks_and_folds_rows_past_the_limit_into_other()
    {
        var day = new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
        var (buckets, _) = Clicks(day.AddHours(-3), day.AddDays(3));
        using var store = Open();
        store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));
        var ct = TestContext.Current.CancellationToken;
        // 2026-11-29 to 2026-12-01 in Kolkata: starts 18:30 UTC the day before, so quarter rows cover the edges.
        Assert.True(QueryParameters.TryBreakdown("adv-1", "ad-1", "country", "2026-11-29", "2026-12-01", "Asia/Kolkata", "2", null, out var query, out var problem), problem);

        var answer = (await store.GetBreakdownAsync(query, ct))!;
        var all = (await store.GetBreakdownAsync(query with { Limit = 100 }, ct))!;
        var advertiser = (await store.GetBreakdownAsync(query with { AdId = null, Limit = 100 }, ct))!;

        var expected = buckets.Where(b => b.Key.Minute >= query.Range.From && b.Key.Minute < query.Range.To)
            .SelectMany(b => b.Value.Dimensions!).GroupBy(d => d.Key.Value)
            .Select(g => new BreakdownRow(g.Key, g.Sum(d => d.Value.Clicks), g.Sum(d => d.Value.InvalidClicks))).ToList();
        expected.Sort(Breakdown.Order);
        Assert.Equal(expected, all.Rows);
        Assert.Equal(expected, advertiser.Rows);
        Assert.Equal([expected[0], expected[1], new BreakdownRow("other", expected[2].Clicks, expected[2].InvalidClicks)], answer.Rows);
        Assert.Null(await store.GetBreakdownAsync(query with { AdId = "ad-unknown" }, ct));
    }

    [Theory]
    // Quarter-hour pages hold 1,024 quarters (10 days 16 h): these ranges cross page boundaries of both rollups,
    // start and end off whole days (edge quarters), and one lies inside a single day.
    [InlineData("2026-10-02T05:15:00Z", "2026-10-27T19:45:00Z")]
    [InlineData("2026-10-10T23:45:00Z", "2026-10-11T00:15:00Z")]
    [InlineData("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")]
    public async Task One_ads_breakdown_over_page_boundaries_counts_exactly_its_own_clicks_in_the_range(string from, string to)
    {
        var start = new DateTimeOffset(2026, 9, 28, 0, 0, 0, TimeSpan.Zero);
        var (buckets, _) = Clicks(start, start.AddDays(36));
        // A second ad of the same advertiser, clicked in the same minutes from other countries: its rows sit on
        // other pages of the same tables and must not leak into ad-1's answer.
        foreach (var (key, _) in buckets.ToList())
        {
            var other = new BucketCounts();
            other.Add(ClickReason.Valid);
            other.AddDimension(ClickDimension.Country, "FR", 1, 0);
            buckets.Add(key with { AdId = "ad-2" }, other);
        }
        using var store = Open();
        store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));
        Assert.True(QueryParameters.TryBreakdown("adv-1", "ad-1", "country", from, to, null, "100", null, out var query, out var problem), problem);

        var answer = (await store.GetBreakdownAsync(query, TestContext.Current.CancellationToken))!;

        var expected = buckets.Where(b => b.Key.AdId == "ad-1" && b.Key.Minute >= query.Range.From && b.Key.Minute < query.Range.To)
            .SelectMany(b => b.Value.Dimensions!).GroupBy(d => d.Key.Value)
            .Select(g => new BreakdownRow(g.Key, g.Sum(d => d.Value.Clicks), g.Sum(d => d.Value.InvalidClicks))).ToList();
        expected.Sort(Breakdown.Order);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, answer.Rows);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
