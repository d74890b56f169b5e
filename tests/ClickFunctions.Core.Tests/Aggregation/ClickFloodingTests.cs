using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Reconciliation;
using ClickFunctions.Tests.Reconciliation;

namespace ClickFunctions.Tests.Aggregation;

/// <summary>Click flooding (issue 14): decided in the aggregation step, reproduced exactly by the recount.</summary>
public class ClickFloodingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);
    private static readonly FloodRule ThreePerTenMinutes = new(3, TimeSpan.FromMinutes(10));

    private static ClickEvent Click(string impression, DateTimeOffset at, ulong fingerprint = 7, string ad = "ad-1", ClickReason reason = ClickReason.Valid) => new(
        ClickId.FromImpression("adv-1", ad, impression), at, ad, "adv-1", "", reason, "", "203.0.113.0", new Fingerprint(fingerprint));

    private static List<RawEvent> Raw(IEnumerable<ClickEvent> clicks, string partition = "0") =>
        [.. clicks.Select((c, i) => new RawEvent(partition, i, c.Timestamp, ClickWireFormat.Encode(c)))];

    private static async Task<Dictionary<BucketKey, BucketCounts>> LiveAsync(List<RawEvent> events, FloodRule rule, int[] batchSizes)
    {
        var step = new AggregationStep(new InMemoryClaimStore(Horizon), rule);
        var total = new Dictionary<BucketKey, BucketCounts>();
        int start = 0;
        for (int b = 0; start < events.Count; b++)
        {
            int size = Math.Min(batchSizes[b % batchSizes.Length], events.Count - start);
            var result = await step.AggregateAsync(events.GetRange(start, size), TestContext.Current.CancellationToken);
            foreach (var (key, counts) in result.Buckets)
            {
                if (!total.TryGetValue(key, out var sum))
                {
                    total[key] = sum = new BucketCounts();
                }
                sum.Add(counts);
            }
            start += size;
        }
        return total;
    }

    private static long Count(Dictionary<BucketKey, BucketCounts> buckets, int minute, ClickReason reason, string ad = "ad-1") =>
        buckets.TryGetValue(new BucketKey("adv-1", "", ad, T0.AddMinutes(minute)), out var c)
            ? reason == ClickReason.Valid ? c.Clicks : c.InvalidByReason[(int)reason]
            : 0;

    [Theory]
    [InlineData(new[] { 100 })]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 2, 3 })]
    public async Task Past_the_limit_one_fingerprints_clicks_on_one_ad_are_flooding_whatever_the_batches(int[] batchSizes)
    {
        // Five clicks by one browser on ad-1 in minutes 0,1,1,2,3 (one 10-minute window), one by another browser, and
        // two more by the first in the next window (minute 10): the 4th and 5th are flooding, the rest count.
        var clicks = new[]
        {
            Click("i1", T0), Click("i2", T0.AddMinutes(1)), Click("i3", T0.AddMinutes(1.5)), Click("other", T0.AddMinutes(2), fingerprint: 8),
            Click("i4", T0.AddMinutes(2)), Click("i5", T0.AddMinutes(3)), Click("i6", T0.AddMinutes(10)), Click("i7", T0.AddMinutes(10.5)),
            Click("i8", T0.AddMinutes(3), ad: "ad-2"),
        };

        var buckets = await LiveAsync(Raw(clicks), ThreePerTenMinutes, batchSizes);

        Assert.Equal(1, Count(buckets, 0, ClickReason.Valid));
        Assert.Equal(2, Count(buckets, 1, ClickReason.Valid));
        Assert.Equal(1, Count(buckets, 2, ClickReason.Valid)); // the other browser
        Assert.Equal(1, Count(buckets, 2, ClickReason.ClickFlooding));
        Assert.Equal(1, Count(buckets, 3, ClickReason.ClickFlooding));
        Assert.Equal(0, Count(buckets, 3, ClickReason.Valid));
        Assert.Equal(2, Count(buckets, 10, ClickReason.Valid)); // a new window
        Assert.Equal(1, Count(buckets, 3, ClickReason.Valid, "ad-2")); // another ad
        Assert.Equal("click_flooding", ClickReason.ClickFlooding.Code());
    }

    [Fact]
    public async Task Duplicates_and_invalid_clicks_take_no_flood_slot_and_a_redelivered_batch_keeps_its_reasons()
    {
        var step = new AggregationStep(new InMemoryClaimStore(Horizon), ThreePerTenMinutes);
        var events = Raw([Click("i1", T0), Click("i1", T0), Click("bot", T0, reason: ClickReason.BotUserAgent), Click("i2", T0), Click("i3", T0), Click("i4", T0)]);

        var first = await step.AggregateAsync(events, TestContext.Current.CancellationToken);
        var again = await step.AggregateAsync(events, TestContext.Current.CancellationToken);

        foreach (var result in new[] { first, again })
        {
            var bucket = result.Buckets[new BucketKey("adv-1", "", "ad-1", T0)];
            Assert.Equal(3, bucket.Clicks);
            Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.Duplicate]);
            Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.BotUserAgent]);
            Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.ClickFlooding]);
        }
    }

    [Fact]
    public async Task The_recount_reproduces_every_flooding_reason_of_the_live_path_and_the_reconciler_corrects_nothing()
    {
        // A flood of 15 fingerprints x 1-12 clicks on 3 ads over 30 minutes, with repeats and bots, in one partition
        // (the local log partitions by ad, so one ad's clicks are always in one partition's order).
        var random = new Random(1414);
        var clicks = new List<ClickEvent>();
        for (int n = 0; n < 600; n++)
        {
            var at = T0.AddSeconds(random.Next(0, 1800));
            string impression = random.Next(10) == 0 && clicks.Count > 0 ? "imp-" + random.Next(clicks.Count) : "imp-" + n;
            var reason = random.Next(20) == 0 ? ClickReason.BotUserAgent : ClickReason.Valid;
            clicks.Add(Click(impression, at, fingerprint: (ulong)random.Next(15), ad: "ad-" + random.Next(3), reason: reason));
        }
        clicks.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        var events = Raw(clicks);
        var rule = new FloodRule(4, TimeSpan.FromMinutes(15));

        var live = await LiveAsync(events, rule, [37, 5, 120]);
        var source = new MemoryRawSource();
        for (int start = 0; start < events.Count; start += 97)
        {
            source.Files.Add(new RawEventFile("0", "0/" + start, start, events.GetRange(start, Math.Min(97, events.Count - start))));
        }
        var from = T0;
        var to = T0.AddMinutes(30);
        var recount = await ClickRecount.RunAsync(source.ReadAsync(from.AddDays(-1), to.AddHours(1), TestContext.Current.CancellationToken), from, to, Horizon, rule, TestContext.Current.CancellationToken);

        long flooding = live.Values.Sum(c => c.InvalidByReason[(int)ClickReason.ClickFlooding]);
        Assert.True(flooding > 100, $"the scenario floods: {flooding}");
        Assert.Equal(live.Keys.OrderBy(k => k.AdId).ThenBy(k => k.Minute), recount.Buckets.Keys.OrderBy(k => k.AdId).ThenBy(k => k.Minute));
        foreach (var (key, counts) in live)
        {
            Assert.Equal(counts.Clicks, recount.Buckets[key].Clicks);
            Assert.Equal(counts.InvalidByReason, recount.Buckets[key].InvalidByReason);
        }

        // Without the rule the recount would disagree: the comparison above is not vacuous.
        var plain = await ClickRecount.RunAsync(source.ReadAsync(from.AddDays(-1), to.AddHours(1), TestContext.Current.CancellationToken), from, to, Horizon, TestContext.Current.CancellationToken);
        Assert.NotEqual(live.Values.Sum(c => c.Clicks), plain.Buckets.Values.Sum(c => c.Clicks));

        // The reconciler with the same rule finds the live store right and writes nothing.
        var store = new MemoryBucketStore();
        foreach (var (key, counts) in live)
        {
            store.Add(key, counts);
        }
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(T0.AddHours(3));
        var reconciler = new Reconciler(source, store, new ReconcileOptions(), Horizon, time, flood: rule);
        var report = await reconciler.ReconcileAsync(from, to, TestContext.Current.CancellationToken);
        Assert.Empty(store.Writes);
        Assert.Equal(ReconcileStatus.Matched, report.Status);
        Assert.Equal(0, report.KeysCorrected);
        Assert.True(report.KeysCompared > 10);
    }
}
