using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Tests.Reconciliation;

/// <summary>
/// Reconciliation corrections move the dimension rollups with the buckets (docs/decisions/088): after a reconcile
/// that corrects a window, every breakdown's totals equal the bucket totals and its values are the log's. Real local
/// log files and the real DuckDB store.
/// </summary>
public sealed class DimensionCorrectionTests : IDisposable
{
    private static readonly DateTimeOffset T = new(2026, 11, 29, 12, 0, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset Day = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);
    private static readonly string[] Countries = ["DE", "FR", "US", "JP"];
    private static readonly string[] Devices = ["desktop", "mobile", "tablet"];
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-dimfix-").FullName;

    private string LogDirectory => Path.Combine(_directory, "log");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Click i: ad-(i % 3), minute 12:00 or 12:05 (odd i), a country and device that vary with i, every tenth a bot.</summary>
    private static ClickEvent Click(int i) => new(
        ClickId.FromImpression("adv-1", "ad-" + (i % 3), "imp-" + i), T.AddMinutes(i % 2 * 5).AddMilliseconds(i),
        "ad-" + (i % 3), "adv-1", "cmp-1", i % 10 == 0 ? ClickReason.BotUserAgent : ClickReason.Valid, "", "203.0.113.0", default)
    {
        Dimensions = new ClickDimensions(Countries[i * 7 % 4], Devices[i % 3 == 0 ? i / 3 % 3 : 0], "ios", "safari", "pub-" + (i % 2), "", "", ""),
    };

    /// <summary>Each minute's clicks enqueued in their own minute, as the host logs them.</summary>
    private async Task WriteLogAsync(int count)
    {
        foreach (int odd in new[] { 0, 1 })
        {
            using var log = new LocalClickLog(new LocalLogOptions { Directory = LogDirectory, Partitions = 2 }, new FakeTimeProvider(T.AddMinutes(odd * 5).AddSeconds(1)), NullLoggerFactory.Instance);
            await Task.WhenAll(Enumerable.Range(0, count).Where(i => i % 2 == odd).Select(i => log.AppendAsync(Click(i), Ct).AsTask()));
        }
    }

    /// <summary>The live consumer's commit of the whole log, with each bucket's counts (dimensions included) passed through <paramref name="tamper"/>.</summary>
    private async Task<DuckDbClickStore> AggregateLiveAsync(Func<BucketKey, BucketCounts, BucketCounts?> tamper)
    {
        var store = new DuckDbClickStore(new ClickStoreOptions { Path = Path.Combine(_directory, ClickStoreOptions.FileName) });
        var claims = new EmbeddedClaimStore(Horizon);
        var step = new AggregationStep(claims);
        var positions = new Dictionary<int, long>();
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        foreach (int p in LocalClickLog.PartitionsIn(LogDirectory))
        {
            using var reader = LocalClickLog.OpenOfflineReader(LogDirectory, p, 0);
            var events = new List<RawEvent>();
            while (reader.Read(events, 100_000) > 0)
            {
            }
            var result = await step.AggregateAsync(events, Ct);
            foreach (var (key, counts) in result.Buckets)
            {
                if (!buckets.TryGetValue(key, out var sum))
                {
                    buckets[key] = sum = new BucketCounts();
                }
                sum.Add(counts);
            }
            positions[p] = reader.NextSequence;
        }
        var kept = buckets.Select(b => (b.Key, Counts: tamper(b.Key, b.Value))).Where(b => b.Counts is not null).ToDictionary(b => b.Key, b => b.Counts!);
        store.Commit(new StoreBatch(kept, claims.Pending, [], positions));
        return store;
    }

    private Reconciler Reconciler(DuckDbClickStore store)
    {
        var options = new ReconcileOptions();
        EmbeddedReconciliationExtensions.LocalDefaults(options);
        return new(new LocalLogRawSource(LogDirectory), new DuckDbBucketCorrections(store), options, Horizon, new FakeTimeProvider(T.AddHours(1)));
    }

    /// <summary>The log's own count of each value of <paramref name="dimension"/> for <paramref name="ad"/> (null: the advertiser), valid and invalid.</summary>
    private static Dictionary<string, (long Clicks, long Invalid)> Expected(int count, string? ad, Func<ClickEvent, string> value) =>
        Enumerable.Range(0, count).Select(Click).Where(c => ad is null || c.AdId == ad)
            .GroupBy(value).ToDictionary(g => g.Key, g => ((long)g.Count(c => c.Reason == ClickReason.Valid), (long)g.Count(c => c.Reason != ClickReason.Valid)));

    private static async Task<Dictionary<string, (long Clicks, long Invalid)>> BreakdownAsync(DuckDbClickStore store, string? ad, ClickDimension dimension, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo? zone = null)
    {
        var breakdown = await store.GetBreakdownAsync(new BreakdownQuery("adv-1", ad, dimension.Code(), dimension, new TimeRange(from, to), zone ?? TimeZoneInfo.Utc, 100), Ct);
        return breakdown?.Rows.ToDictionary(r => r.Value, r => (r.Clicks, r.InvalidClicks)) ?? [];
    }

    private static async Task<(long Clicks, long Invalid)> BucketTotalsAsync(DuckDbClickStore store, string ad, Granularity granularity, DateTimeOffset from, DateTimeOffset to)
    {
        var answer = (await store.GetAdClicksAsync(new AdClicksQuery("adv-1", ad, granularity, new TimeRange(from, to)), Ct))!;
        return (answer.Total.Clicks, answer.Total.InvalidClicks);
    }

    private static async Task AssertBreakdownsAreTheLogsAsync(DuckDbClickStore store, int count)
    {
        var quarterFrom = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        foreach (string ad in new[] { "ad-0", "ad-1", "ad-2" })
        {
            var totals = await BucketTotalsAsync(store, ad, Granularity.Minute, quarterFrom, quarterFrom.AddMinutes(15));
            foreach (var (dimension, value) in new (ClickDimension, Func<ClickEvent, string>)[] { (ClickDimension.Country, c => c.Dimensions.Country), (ClickDimension.Device, c => c.Dimensions.Device), (ClickDimension.Publisher, c => c.Dimensions.Publisher) })
            {
                // From the quarter-hour rows (a range inside one hour) and from the day rows (the whole UTC day).
                var quarter = await BreakdownAsync(store, ad, dimension, quarterFrom, quarterFrom.AddMinutes(15));
                var day = await BreakdownAsync(store, ad, dimension, Day, Day.AddDays(1));
                Assert.Equal(totals, (quarter.Values.Sum(v => v.Clicks), quarter.Values.Sum(v => v.Invalid)));
                Assert.Equal(Expected(count, ad, value).OrderBy(e => e.Key), quarter.OrderBy(e => e.Key));
                Assert.Equal(Expected(count, ad, value).OrderBy(e => e.Key), day.OrderBy(e => e.Key));
            }
        }
        var advertiser = await BreakdownAsync(store, null, ClickDimension.Country, Day, Day.AddDays(1));
        Assert.Equal(Expected(count, null, c => c.Dimensions.Country).OrderBy(e => e.Key), advertiser.OrderBy(e => e.Key));
    }

    [Fact]
    public async Task A_store_that_lost_an_ads_buckets_gets_its_dimension_rows_back_from_the_recount_in_a_window_that_cuts_the_quarter()
    {
        const int Count = 120;
        await WriteLogAsync(Count);
        using var store = await AggregateLiveAsync((key, counts) => key.AdId == "ad-0" ? null : counts);
        Assert.Empty(await BreakdownAsync(store, "ad-0", ClickDimension.Country, Day, Day.AddDays(1)));

        // [11:50, 12:10): the quarter 12:00-12:15 is cut by the window's end.
        var report = await Reconciler(store).ReconcileAsync(T.AddMinutes(-10).AddSeconds(-30), T.AddMinutes(10).AddSeconds(-30), Ct);

        Assert.Equal(ReconcileStatus.Corrected, report.Status);
        await AssertBreakdownsAreTheLogsAsync(store, Count);
    }

    [Fact]
    public async Task A_minute_counted_twice_is_taken_back_out_of_its_dimension_rows_in_a_whole_quarter_window_and_in_a_cut_one()
    {
        const int Count = 120;
        await WriteLogAsync(Count);
        var doubled = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        foreach (var (from, to) in new[] { (doubled, doubled.AddMinutes(15)), (doubled.AddMinutes(-10), doubled.AddMinutes(3)) })
        {
            using (var store = await AggregateLiveAsync((key, counts) =>
            {
                if (key.AdId != "ad-1" || key.Minute != doubled)
                {
                    return counts;
                }
                var twice = new BucketCounts();
                twice.Add(counts);
                twice.Add(counts);
                return twice;
            }))
            {
                Assert.NotEqual(Expected(Count, "ad-1", c => c.Dimensions.Country).OrderBy(e => e.Key), (await BreakdownAsync(store, "ad-1", ClickDimension.Country, Day, Day.AddDays(1))).OrderBy(e => e.Key));

                var report = await Reconciler(store).ReconcileAsync(from, to, Ct);
                var again = await Reconciler(store).ReconcileAsync(from, to, Ct);

                Assert.Equal(ReconcileStatus.Corrected, report.Status);
                Assert.True(report.KeysCorrected == 1, string.Join("; ", report.Corrections.Select(c => $"{c.AdId} {c.Minute:O} {c.StoredClicks}->{c.RecountedClicks} {c.StoredInvalidClicks}->{c.RecountedInvalidClicks}")));
                Assert.Equal(ReconcileStatus.Matched, again.Status);
                await AssertBreakdownsAreTheLogsAsync(store, Count);
            }
            File.Delete(Path.Combine(_directory, ClickStoreOptions.FileName));
        }
    }

    [Fact]
    public async Task Retention_deletes_the_day_dimension_rows_with_the_day_buckets_and_a_breakdown_reaching_before_them_is_refused()
    {
        const int Count = 60;
        await WriteLogAsync(Count);
        using var store = await AggregateLiveAsync((_, counts) => counts);
        Assert.Equal(Expected(Count, "ad-1", c => c.Dimensions.Country).OrderBy(e => e.Key), (await BreakdownAsync(store, "ad-1", ClickDimension.Country, Day, Day.AddDays(1))).OrderBy(e => e.Key));

        store.DeleteRollupBefore(Granularity.Day, Day.AddDays(1));

        Assert.True(store.DimensionRowsDeleted > 0);
        var refused = await Assert.ThrowsAsync<RangeNotRetainedException>(async () => await BreakdownAsync(store, "ad-1", ClickDimension.Country, Day, Day.AddDays(1)));
        Assert.Contains("breakdown day rows before 2026-11-30T00:00:00Z are no longer kept", refused.Message, StringComparison.Ordinal);
        // The quarter-hour rows are kept with the minutes: a range inside the day still answers.
        var quarter = await BreakdownAsync(store, "ad-1", ClickDimension.Country, T.AddSeconds(-30), T.AddMinutes(15).AddSeconds(-30));
        Assert.Equal(Expected(Count, "ad-1", c => c.Dimensions.Country).OrderBy(e => e.Key), quarter.OrderBy(e => e.Key));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
