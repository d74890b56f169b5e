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
}
