using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Tests.Aggregation;

public class AggregationStepTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 34, 56, TimeSpan.Zero);
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);

    private static ClickEvent Click(string impression, DateTimeOffset? at = null, ClickReason reason = ClickReason.Valid, string ad = "ad-1") => new(
        ClickId.FromImpression("adv-1", ad, impression), at ?? T0, ad, "adv-1", "cmp-1", reason, "", "203.0.113.0", new Fingerprint(7));

    private static RawEvent Raw(ClickEvent click, long sequence, string partition = "0") =>
        new(partition, sequence, click.Timestamp, ClickWireFormat.Encode(click));

    private static BucketCounts Bucket(AggregationResult result, DateTimeOffset minute, string ad = "ad-1") =>
        result.Buckets[new BucketKey("adv-1", "cmp-1", ad, minute)];

    private static readonly DateTimeOffset Minute0 = TimeBuckets.FloorToMinute(T0);

    [Fact]
    public async Task A_click_repeated_within_one_batch_counts_once_and_the_repeat_as_a_duplicate()
    {
        var step = new AggregationStep(new InMemoryClaimStore(Horizon));

        var result = await step.AggregateAsync([Raw(Click("i1"), 0), Raw(Click("i1"), 1), Raw(Click("i2"), 2)], TestContext.Current.CancellationToken);

        var bucket = Bucket(result, Minute0);
        Assert.Equal(2, bucket.Clicks);
        Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.Duplicate]);
        Assert.Equal(1, result.Duplicates);
    }

    [Fact]
    public async Task A_click_claimed_in_an_earlier_batch_is_a_duplicate_in_a_later_one()
    {
        var step = new AggregationStep(new InMemoryClaimStore(Horizon));
        await step.AggregateAsync([Raw(Click("i1"), 0)], TestContext.Current.CancellationToken);

        var result = await step.AggregateAsync([Raw(Click("i1", T0.AddMinutes(5)), 1)], TestContext.Current.CancellationToken);

        var bucket = Bucket(result, Minute0.AddMinutes(5));
        Assert.Equal(0, bucket.Clicks);
        Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.Duplicate]);
    }

    [Fact]
    public async Task A_redelivered_event_is_recognised_as_itself_and_still_counts_as_the_original_click()
    {
        var step = new AggregationStep(new InMemoryClaimStore(Horizon));
        var raw = Raw(Click("i1"), 42, "3");
        await step.AggregateAsync([raw], TestContext.Current.CancellationToken);

        var again = await step.AggregateAsync([raw], TestContext.Current.CancellationToken);

        Assert.Equal(1, Bucket(again, Minute0).Clicks);
        Assert.Equal(0, Bucket(again, Minute0).InvalidClicks);
        Assert.Equal(1, again.Redelivered);
        Assert.Equal(0, again.Duplicates);
    }

    [Fact]
    public async Task The_same_click_id_after_the_dedup_horizon_counts_again()
    {
        var step = new AggregationStep(new InMemoryClaimStore(TimeSpan.FromHours(1)));
        await step.AggregateAsync([Raw(Click("i1"), 0)], TestContext.Current.CancellationToken);

        var within = await step.AggregateAsync([Raw(Click("i1", T0.AddMinutes(59)), 1)], TestContext.Current.CancellationToken);
        var after = await step.AggregateAsync([Raw(Click("i1", T0.AddMinutes(60)), 2)], TestContext.Current.CancellationToken);

        Assert.Equal(1, Bucket(within, Minute0.AddMinutes(59)).InvalidByReason[(int)ClickReason.Duplicate]);
        Assert.Equal(1, Bucket(after, Minute0.AddMinutes(60)).Clicks);
    }

    [Fact]
    public async Task Invalid_clicks_are_counted_under_their_reason_and_take_no_claim()
    {
        var claims = new InMemoryClaimStore(Horizon);
        var step = new AggregationStep(claims);

        var result = await step.AggregateAsync(
            [Raw(Click("i1", reason: ClickReason.BotUserAgent), 0), Raw(Click("i2", reason: ClickReason.HeadRequest), 1), Raw(Click("i1"), 2)],
            TestContext.Current.CancellationToken);

        var bucket = Bucket(result, Minute0);
        Assert.Equal(1, bucket.Clicks);
        Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.BotUserAgent]);
        Assert.Equal(1, bucket.InvalidByReason[(int)ClickReason.HeadRequest]);
        Assert.Equal(2, bucket.InvalidClicks);
        Assert.Equal(1, claims.Count);
    }

    [Fact]
    public async Task Malformed_events_are_dead_lettered_with_a_reason_and_the_rest_of_the_batch_counts()
    {
        var step = new AggregationStep(new InMemoryClaimStore(Horizon));
        var garbage = new RawEvent("0", 1, T0, new byte[] { 9, 9, 9 });

        var result = await step.AggregateAsync([Raw(Click("i1"), 0), garbage, Raw(Click("i2"), 2)], TestContext.Current.CancellationToken);

        var letter = Assert.Single(result.DeadLetters);
        Assert.Same(garbage, letter.Event);
        Assert.Contains("42 bytes", letter.Reason, StringComparison.Ordinal);
        Assert.Equal(2, Bucket(result, Minute0).Clicks);
    }

    [Fact]
    public async Task Buckets_are_per_ad_and_per_utc_minute()
    {
        var step = new AggregationStep(new InMemoryClaimStore(Horizon));

        var result = await step.AggregateAsync(
            [Raw(Click("i1"), 0), Raw(Click("i2", T0.AddSeconds(4)), 1), Raw(Click("i3", ad: "ad-2"), 2)],
            TestContext.Current.CancellationToken);

        Assert.Equal(3, result.Buckets.Count);
        Assert.Equal(1, Bucket(result, Minute0).Clicks);
        Assert.Equal(1, Bucket(result, Minute0.AddMinutes(1)).Clicks);
        Assert.Equal(1, Bucket(result, Minute0, "ad-2").Clicks);
    }

    /// <summary>
    /// Clicks with varied dimension values over a few ads and minutes, ~1 in 7 a repeat of the one before (a
    /// duplicate) and ~1 in 11 a bot, as events 0..n-1 of partition 0.
    /// </summary>
    private static List<(ClickEvent Click, RawEvent Raw)> VariedClicks(int n)
    {
        string[] countries = ["DE", "US", "FR", "unknown"];
        var clicks = new List<(ClickEvent, RawEvent)>(n);
        for (int i = 0; i < n; i++)
        {
            int impression = i % 7 == 6 ? i - 1 : i;
            string ad = "ad-" + (impression % 5);
            var click = new ClickEvent(ClickId.FromImpression("adv-1", ad, "imp-" + impression), T0.AddSeconds(impression * 7), ad, "adv-1", "cmp-1",
                impression % 11 == 3 ? ClickReason.BotUserAgent : ClickReason.Valid, impression % 4 == 0 ? "" : "news" + (impression % 3) + ".example",
                "203.0.113.0", new Fingerprint((UInt128)impression))
            {
                Dimensions = new ClickDimensions(countries[impression % 4], ClickDimensions.Devices[impression % 4], ClickDimensions.OperatingSystems[impression % 7],
                    ClickDimensions.Browsers[impression % 5], impression % 2 == 0 ? "" : "pub-" + (impression % 3), "plc-" + (impression % 2), "", "sub-" + (impression % 6)),
            };
            clicks.Add((click, Raw(click, i)));
        }
        return clicks;
    }

    /// <summary>What the step must count, computed here without it: the first event of a click id counts (bots under their reason).</summary>
    private static Dictionary<(BucketKey, ClickDimension, string), (long Clicks, long Invalid)> ExpectedDimensions(List<(ClickEvent Click, RawEvent Raw)> clicks)
    {
        var seen = new HashSet<ClickId>();
        var expected = new Dictionary<(BucketKey, ClickDimension, string), (long, long)>();
        foreach (var (click, _) in clicks)
        {
            bool counts = click.IsValid && seen.Add(click.ClickId);
            var key = new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute);
            foreach (var dimension in DimensionCodes.All)
            {
                var k = (key, dimension, DimensionCodes.ValueOf(click, dimension));
                var (c, v) = expected.GetValueOrDefault(k);
                expected[k] = counts ? (c + 1, v) : (c, v + 1);
            }
        }
        return expected;
    }

    private static Dictionary<(BucketKey, ClickDimension, string), (long Clicks, long Invalid)> Dimensions(IEnumerable<AggregationResult> results)
    {
        var sum = new Dictionary<(BucketKey, ClickDimension, string), (long, long)>();
        foreach (var (key, counts) in results.SelectMany(r => r.Buckets))
        {
            foreach (var ((dimension, value), count) in counts.Dimensions!)
            {
                var (c, v) = sum.GetValueOrDefault((key, dimension, value));
                sum[(key, dimension, value)] = (c + count.Clicks, v + count.InvalidClicks);
            }
        }
        return sum;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public async Task Dimension_values_are_counted_per_bucket_as_an_independent_count_gives_however_the_events_are_batched(int batchSize)
    {
        var clicks = VariedClicks(400);
        var step = new AggregationStep(new InMemoryClaimStore(Horizon));
        var results = new List<AggregationResult>();
        foreach (var batch in clicks.Select(c => c.Raw).Chunk(batchSize))
        {
            results.Add(await step.AggregateAsync(batch, TestContext.Current.CancellationToken)); // one step: its string pool carries over
        }

        var expected = ExpectedDimensions(clicks);
        Assert.Equal(expected.OrderBy(e => e.Key.ToString()), Dimensions(results).OrderBy(e => e.Key.ToString()));
        Assert.Equal(clicks.Count, results.Sum(r => r.Buckets.Values.Sum(b => b.Clicks + b.InvalidClicks)));
    }

    /// <summary>Eight partitions' events (partitions "0" to "7"), each <see cref="VariedClicks"/> with click ids of its own.</summary>
    private static List<List<RawEvent>> EightPartitions() => [.. Enumerable.Range(0, 8).Select(p => VariedClicks(300).Select(c =>
    {
        var click = c.Click with { ClickId = ClickId.FromImpression("adv-1", c.Click.AdId, $"p{p}-{c.Click.ClickId}") };
        return new RawEvent(p.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Raw.SequenceNumber, click.Timestamp, ClickWireFormat.Encode(click));
    }).ToList())];

    [Fact]
    public async Task One_step_running_batches_at_once_counts_each_as_it_would_alone()
    {
        // The Azure host runs its singleton step on several partitions' batches at once: each batch's scratch (string
        // pool, repeat check) must be its own. Eight partitions' batches at a time, each its own claims (distinct ids).
        var perPartition = EightPartitions();
        var alone = new List<Dictionary<(BucketKey, ClickDimension, string), (long, long)>>();
        foreach (var events in perPartition)
        {
            alone.Add(Dimensions([await new AggregationStep(new InMemoryClaimStore(Horizon)).AggregateAsync(events, TestContext.Current.CancellationToken)]));
        }

        for (int round = 0; round < 5; round++)
        {
            var ct = TestContext.Current.CancellationToken;
            var shared = new AggregationStep(new LockedClaimStore(new InMemoryClaimStore(Horizon)));
            var together = await Task.WhenAll(perPartition.Select(events => Task.Run(async () => await shared.AggregateAsync(events, ct), ct)));
            for (int p = 0; p < perPartition.Count; p++)
            {
                Assert.Equal(alone[p].OrderBy(e => e.Key.ToString()), Dimensions([together[p]]).OrderBy(e => e.Key.ToString()));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public async Task Results_handed_back_are_reused_and_count_as_fresh_buckets_do(int batchSize)
    {
        // Decision 102: a disposed result's buckets are emptied and counted into again by the step's next batches.
        var clicks = VariedClicks(400);
        var step = new AggregationStep(new InMemoryClaimStore(Horizon));
        var counted = new List<Dictionary<(BucketKey, ClickDimension, string), (long, long)>>();
        var reasons = new Dictionary<(BucketKey, ClickReason), long>();
        var seen = new HashSet<BucketCounts>(ReferenceEqualityComparer.Instance);
        bool reused = false;
        foreach (var batch in clicks.Select(c => c.Raw).Chunk(batchSize))
        {
            var result = await step.AggregateAsync(batch, TestContext.Current.CancellationToken);
            counted.Add(Dimensions([result]));
            foreach (var (key, counts) in result.Buckets)
            {
                reused |= !seen.Add(counts);
                reasons[(key, ClickReason.Valid)] = reasons.GetValueOrDefault((key, ClickReason.Valid)) + counts.Clicks;
                foreach (var reason in ClickReasons.All.Where(r => r != ClickReason.Valid))
                {
                    reasons[(key, reason)] = reasons.GetValueOrDefault((key, reason)) + counts.InvalidByReason[(int)reason];
                }
            }
            result.Dispose();
            Assert.Throws<ObjectDisposedException>(() => result.Buckets);
            result.Dispose(); // twice is harmless
        }

        var sum = new Dictionary<(BucketKey, ClickDimension, string), (long Clicks, long Invalid)>();
        foreach (var (k, (c, v)) in counted.SelectMany(d => d))
        {
            var (c0, v0) = sum.GetValueOrDefault(k);
            sum[k] = (c0 + c, v0 + v);
        }
        Assert.True(reused || clicks.Count <= batchSize, "later batches should count into the buckets handed back");
        Assert.Equal(ExpectedDimensions(clicks).OrderBy(e => e.Key.ToString()), sum.OrderBy(e => e.Key.ToString()));
        var fresh = await new AggregationStep(new InMemoryClaimStore(Horizon)).AggregateAsync(clicks.Select(c => c.Raw).ToList(), TestContext.Current.CancellationToken);
        foreach (var (key, counts) in fresh.Buckets)
        {
            Assert.Equal(counts.Clicks, reasons[(key, ClickReason.Valid)]);
            foreach (var reason in ClickReasons.All.Where(r => r != ClickReason.Valid))
            {
                Assert.Equal(counts.InvalidByReason[(int)reason], reasons[(key, reason)]);
            }
        }
        Assert.Equal(fresh.Buckets.Count * ClickReasons.All.Count, reasons.Count);
    }

    [Fact]
    public async Task One_step_running_batches_at_once_and_taking_their_buckets_back_counts_each_as_it_would_alone()
    {
        // Eight partitions at once on one step, each batch's result disposed as soon as it is read: a batch never
        // counts into buckets another batch running at the same time still holds (decision 102).
        var perPartition = EightPartitions();
        var alone = new List<Dictionary<(BucketKey, ClickDimension, string), (long, long)>>();
        foreach (var events in perPartition)
        {
            var step = new AggregationStep(new InMemoryClaimStore(Horizon));
            var results = new List<AggregationResult>();
            foreach (var batch in events.Chunk(25))
            {
                results.Add(await step.AggregateAsync(batch, TestContext.Current.CancellationToken));
            }
            alone.Add(Dimensions(results));
        }

        var ct = TestContext.Current.CancellationToken;
        for (int round = 0; round < 3; round++)
        {
            var shared = new AggregationStep(new LockedClaimStore(new InMemoryClaimStore(Horizon)));
            var together = await Task.WhenAll(perPartition.Select(events => Task.Run(async () =>
            {
                var sum = new Dictionary<(BucketKey, ClickDimension, string), (long Clicks, long Invalid)>();
                foreach (var batch in events.Chunk(25))
                {
                    using var result = await shared.AggregateAsync(batch, ct);
                    await Task.Yield(); // let the other partitions' batches run while this one's buckets are held
                    foreach (var (k, (c, v)) in Dimensions([result]))
                    {
                        var (c0, v0) = sum.GetValueOrDefault(k);
                        sum[k] = (c0 + c, v0 + v);
                    }
                }
                return sum;
            }, ct)));
            for (int p = 0; p < perPartition.Count; p++)
            {
                Assert.Equal(alone[p].OrderBy(e => e.Key.ToString()), together[p].OrderBy(e => e.Key.ToString()));
            }
        }
    }

    /// <summary>The in-memory claim store taking one batch of claims at a time, for a step running batches at once.</summary>
    private sealed class LockedClaimStore(InMemoryClaimStore inner) : IClaimStore
    {
        private readonly Lock _gate = new();

        public ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                var claimed = inner.ClaimAsync(requests, outcomes, cancellationToken);
                Assert.True(claimed.IsCompletedSuccessfully); // the in-memory store answers at once
                return claimed;
            }
        }
    }
}
