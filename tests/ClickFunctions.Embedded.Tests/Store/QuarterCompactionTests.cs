using System.Globalization;
using System.Text.Json;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;
using DuckDB.NET.Data;

namespace ClickFunctions.Tests.Store;

/// <summary>
/// Closed days compacted into quarter-hour rows (docs/decisions/104) answer every query exactly as the minute, hour and
/// day rows do: each query is asked before and after compaction of the same store (the rows path is checked against
/// Python's zoneinfo elsewhere, TimeZoneBucketTests) and once against a sum computed here; with a neighbouring ad and a
/// second advertiser's same ad id in the same minutes, every invalid reason, a New York DST fall-back day, and zones at
/// +05:30 and +05:45. Then what keeps the compacted rows equal to the minute rows: a later batch into a compacted day,
/// retention, the version-4 migration, and a blob format this build does not know.
/// </summary>
public sealed class QuarterCompactionTests : IDisposable
{
    // 2026-10-29 .. 2026-11-04 UTC: New York falls back on 2026-11-01.
    private static readonly DateTimeOffset Start = new(2026, 10, 29, 0, 0, 0, TimeSpan.Zero);
    private const int Days = 7;
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-quarters-").FullName;

    private string StorePath => Path.Combine(_directory, ClickStoreOptions.FileName);

    private DuckDbClickStore Open() => new(new ClickStoreOptions { Path = StorePath });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static long DayOf(DateTimeOffset t) => t.ToUnixTimeSeconds() / 86_400;

    /// <summary>ad-1 of adv-1 (two campaigns), its neighbour ad-2 and adv-2's ad-1, clicked at uneven minutes, every reason.</summary>
    private static Dictionary<BucketKey, BucketCounts> Clicks()
    {
        var reasons = ClickReasons.All.ToArray();
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        int n = 0;
        for (var t = Start; t < Start.AddDays(Days); t = t.AddMinutes(7 + (n % 5)))
        {
            foreach (var (advertiser, campaign, ad) in new[] { ("adv-1", "cmp-1", "ad-1"), ("adv-1", "cmp-2", "ad-1"), ("adv-1", "cmp-1", "ad-2"), ("adv-2", "cmp-1", "ad-1") })
            {
                n++;
                var counts = new BucketCounts();
                for (int i = 0; i <= n % 3; i++)
                {
                    counts.Add(reasons[(n + i) % reasons.Length]);
                }
                buckets.Add(new BucketKey(advertiser, campaign, ad, t), counts);
            }
        }
        return buckets;
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    public static TheoryData<string, string, string, string> Queries => new()
    {
        { "UTC", "minute", "2026-10-30T10:07:00Z", "2026-10-30T13:52:00Z" }, // mid-quarter edges
        { "UTC", "hour", "2026-10-29T00:00:00Z", "2026-11-05T00:00:00Z" },
        { "UTC", "day", "2026-10-29T05:00:00Z", "2026-11-04T17:00:00Z" },
        { "UTC", "week", "2026-10-26T00:00:00Z", "2026-11-09T00:00:00Z" },
        { "America/New_York", "day", "2026-10-29T04:00:00Z", "2026-11-05T05:00:00Z" }, // through the 25-hour day
        { "America/New_York", "hour", "2026-10-31T04:00:00Z", "2026-11-02T05:00:00Z" },
        { "America/New_York", "week", "2026-10-26T04:00:00Z", "2026-11-09T05:00:00Z" },
        { "Asia/Kolkata", "day", "2026-10-28T18:30:00Z", "2026-11-04T18:30:00Z" },
        { "Asia/Kolkata", "hour", "2026-10-30T18:30:00Z", "2026-11-01T18:30:00Z" },
        { "Asia/Kathmandu", "day", "2026-10-28T18:15:00Z", "2026-11-04T18:15:00Z" },
        { "Asia/Kathmandu", "hour", "2026-10-30T18:15:00Z", "2026-10-31T18:15:00Z" },
    };

    private static AdClicksQuery Query(string zone, string granularity, string from, string to, string advertiser = "adv-1", string ad = "ad-1")
    {
        Assert.True(Granularities.TryParse(granularity, out var g));
        return new AdClicksQuery(advertiser, ad, g, new TimeRange(At(from), At(to)), TimeZoneInfo.FindSystemTimeZoneById(zone));
    }

    private static async Task<string> AnswerAsync(DuckDbClickStore store, AdClicksQuery query) =>
        JsonSerializer.Serialize(await store.GetAdClicksAsync(query, Ct));

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Compacted_days_answer_every_zone_and_granularity_as_the_rows_do(string zone, string granularity, string from, string to)
    {
        using var store = Open();
        store.Commit(new StoreBatch(Clicks(), [], [], new Dictionary<int, long> { [0] = 1 }));
        var queries = new[] { Query(zone, granularity, from, to), Query(zone, granularity, from, to, ad: "ad-2"), Query(zone, granularity, from, to, advertiser: "adv-2") };
        var before = new List<string>();
        foreach (var q in queries)
        {
            before.Add(await AnswerAsync(store, q));
        }

        // The last day stays open: only days ending at or before `through` are compacted.
        Assert.Equal(Days - 1, store.CompactDays(Start.AddDays(Days - 1).AddHours(5), TimeSpan.FromMinutes(5)));
        Assert.True(store.IsCompacted(DayOf(Start)));
        Assert.False(store.IsCompacted(DayOf(Start.AddDays(Days - 1))));

        for (int i = 0; i < queries.Length; i++)
        {
            Assert.Equal(before[i], await AnswerAsync(store, queries[i]));
        }
    }

    [Fact]
    public async Task Compacted_hours_sum_to_what_was_written()
    {
        var buckets = Clicks();
        using var store = Open();
        store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));
        store.CompactDays(Start.AddDays(Days), TimeSpan.FromMinutes(5));
        var answer = (await store.GetAdClicksAsync(Query("UTC", "hour", "2026-10-29T00:00:00Z", "2026-11-05T00:00:00Z"), Ct))!;

        var expected = buckets.Where(b => b.Key.AdvertiserId == "adv-1" && b.Key.AdId == "ad-1")
            .GroupBy(b => new DateTimeOffset(b.Key.Minute.Year, b.Key.Minute.Month, b.Key.Minute.Day, b.Key.Minute.Hour, 0, 0, TimeSpan.Zero))
            .OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Sum(b => b.Value.Clicks), g.Sum(b => b.Value.InvalidClicks), g.Sum(b => b.Value.InvalidByReason[(int)ClickReason.Duplicate])))
            .ToList();
        Assert.Equal(expected, answer.Buckets.Select(b => (b.Start, b.Clicks, b.InvalidClicks, b.InvalidByReason.GetValueOrDefault("duplicate"))).ToList());
        Assert.All(Enumerable.Range(0, Days), d => Assert.True(store.IsCompacted(DayOf(Start.AddDays(d)))));
    }

    [Fact]
    public async Task A_later_batch_into_a_compacted_day_is_counted_and_the_day_compacted_again()
    {
        using var store = Open();
        store.Commit(new StoreBatch(Clicks(), [], [], new Dictionary<int, long> { [0] = 1 }));
        store.CompactDays(Start.AddDays(Days), TimeSpan.FromMinutes(5));
        var query = Query("America/New_York", "day", "2026-10-29T04:00:00Z", "2026-11-05T05:00:00Z");
        var before = (await store.GetAdClicksAsync(query, Ct))!;

        // A correction into 2026-10-30 (a late click, or a recount's delta): a new quarter and an existing minute.
        var late = new Dictionary<BucketKey, BucketCounts>();
        var extra = new BucketCounts();
        extra.Add(ClickReason.Valid);
        extra.Add(ClickReason.ClickFlooding);
        late.Add(new BucketKey("adv-1", "cmp-1", "ad-1", At("2026-10-30T23:59:00Z")), extra);
        store.Commit(new StoreBatch(late, [], [], new Dictionary<int, long> { [0] = 2 }));
        Assert.False(store.IsCompacted(DayOf(At("2026-10-30T00:00:00Z"))));
        Assert.True(store.IsCompacted(DayOf(At("2026-10-29T00:00:00Z"))));

        var after = (await store.GetAdClicksAsync(query, Ct))!;
        Assert.Equal(before.Total.Clicks + 1, after.Total.Clicks);
        Assert.Equal(before.Total.InvalidByReason.GetValueOrDefault("click_flooding") + 1, after.Total.InvalidByReason.GetValueOrDefault("click_flooding"));
        string rows = JsonSerializer.Serialize(after);

        Assert.Equal(1, store.CompactDays(Start.AddDays(Days), TimeSpan.FromMinutes(5)));
        Assert.True(store.IsCompacted(DayOf(At("2026-10-30T00:00:00Z"))));
        Assert.Equal(rows, await AnswerAsync(store, query));
    }

    [Fact]
    public async Task Compaction_waits_for_the_minute_floor_and_retention_of_hours_forgets_compacted_days()
    {
        using var store = Open();
        store.Commit(new StoreBatch(Clicks(), [], [], new Dictionary<int, long> { [0] = 1 }));
        // Minute rows before 2026-10-30T06:00 are gone: that day's quarters could no longer be summed from them.
        store.DeleteRollupBefore(Granularity.Minute, At("2026-10-30T06:00:00Z"));
        Assert.Equal(Days - 2, store.CompactDays(Start.AddDays(Days), TimeSpan.FromMinutes(5)));
        Assert.False(store.IsCompacted(DayOf(At("2026-10-29T00:00:00Z"))));
        Assert.False(store.IsCompacted(DayOf(At("2026-10-30T00:00:00Z"))));
        Assert.True(store.IsCompacted(DayOf(At("2026-10-31T00:00:00Z"))));

        var query = Query("America/New_York", "hour", "2026-11-01T04:00:00Z", "2026-11-03T05:00:00Z");
        string before = await AnswerAsync(store, query);
        store.DeleteRollupBefore(Granularity.Hour, At("2026-11-01T01:00:00Z"));
        Assert.False(store.IsCompacted(DayOf(At("2026-10-31T00:00:00Z"))));
        Assert.False(store.IsCompacted(DayOf(At("2026-11-01T00:00:00Z"))));
        Assert.True(store.IsCompacted(DayOf(At("2026-11-02T00:00:00Z"))));
        Assert.Equal(before, await AnswerAsync(store, query));
        Assert.Equal(0L, Scalar("SELECT count(*) FROM clicks_quarters WHERE day < " + DayOf(At("2026-11-02T00:00:00Z")).ToString(CultureInfo.InvariantCulture), store));
    }

    [Fact]
    public async Task A_version_4_store_is_migrated_and_its_days_compacted_after()
    {
        var buckets = Clicks();
        using (var store = Open())
        {
            store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long> { [0] = 1 }));
        }
        using (var connection = new DuckDBConnection($"Data Source={StorePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE clicks_quarters; DROP TABLE quarter_days; UPDATE store_info SET value = '4' WHERE name = 'schema_version'";
            command.ExecuteNonQuery();
        }
        using (var store = Open())
        {
            Assert.Equal("5", ScalarText("SELECT value FROM store_info WHERE name = 'schema_version'", store));
            var query = Query("Asia/Kolkata", "day", "2026-10-28T18:30:00Z", "2026-11-04T18:30:00Z");
            string before = await AnswerAsync(store, query);
            Assert.Equal(Days, store.CompactDays(Start.AddDays(Days), TimeSpan.FromMinutes(5)));
            Assert.Equal(before, await AnswerAsync(store, query));
        }
    }

    [Fact]
    public async Task A_blob_of_a_newer_format_is_refused_with_what_to_do()
    {
        using var store = Open();
        store.Commit(new StoreBatch(Clicks(), [], [], new Dictionary<int, long> { [0] = 1 }));
        store.CompactDays(Start.AddDays(Days), TimeSpan.FromMinutes(5));
        using (var connection = new DuckDBConnection($"Data Source={StorePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE clicks_quarters SET quarters = '\\x02\\x00\\x02\\x00'::BLOB";
            command.ExecuteNonQuery();
        }
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.GetAdClicksAsync(Query("UTC", "hour", "2026-10-29T00:00:00Z", "2026-10-30T00:00:00Z"), Ct));
        Assert.Contains("newer ClickFunctions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_blob_round_trips_every_reason_negative_and_large_counts_and_refuses_unknown_reasons()
    {
        var encoder = new QuarterDays.Encoder();
        var written = new List<(int Quarter, long Clicks, long[] Slots)>();
        var random = new Random(5);
        foreach (int quarter in new[] { 0, 1, 17, 94, 95 })
        {
            var slots = new long[BucketCounts.ReasonSlots];
            for (int r = 1; r < slots.Length; r++)
            {
                slots[r] = random.Next(4) switch { 0 => 0, 1 => -3, 2 => long.MaxValue / 3, _ => random.Next(1000) };
            }
            long clicks = quarter == 17 ? -1 : long.MaxValue - quarter;
            encoder.Add(quarter, clicks, slots);
            written.Add((quarter, clicks, slots));
        }
        byte[] blob = encoder.ToArray();
        var read = new List<(int, long, long[])>();
        var reader = new QuarterDays.Reader(blob);
        var buffer = new long[BucketCounts.ReasonSlots];
        while (reader.Next(out int q, out long c, buffer))
        {
            read.Add((q, c, [.. buffer]));
        }
        Assert.Equal(written.Select(w => (w.Quarter, w.Clicks, string.Join(',', w.Slots))), read.Select(r => (r.Item1, r.Item2, string.Join(',', r.Item3))));

        // Quarter 3, 1 click, a reason bit one past the last this build knows, its count 1.
        byte[] newer = [QuarterDays.FormatVersion, 3, 2, .. Varint(1UL << BucketCounts.ReasonSlots), 2];
        Assert.Contains("does not know", Assert.Throws<InvalidDataException>(() =>
        {
            var r = new QuarterDays.Reader(newer);
            r.Next(out _, out _, new long[BucketCounts.ReasonSlots]);
        }).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Add(96, 1, new long[BucketCounts.ReasonSlots]));
    }

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static long Scalar(string sql, DuckDbClickStore store) => Convert.ToInt64(ScalarText(sql, store), CultureInfo.InvariantCulture);

    private static string ScalarText(string sql, DuckDbClickStore store) => store.WithReader(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture)!;
    });

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
