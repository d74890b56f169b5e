using ClickFunctions.Queries;

namespace ClickFunctions.Tests.Queries;

public class QueryPlannerTests
{
    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(Granularity.Minute)]
    [InlineData(Granularity.Hour)]
    [InlineData(Granularity.Day)]
    public void Buckets_are_read_from_the_rollup_of_their_granularity(Granularity granularity)
    {
        var range = new TimeRange(At("2026-01-01T00:00:00Z"), At("2026-01-08T00:00:00Z"));

        var segment = QueryPlanner.ForBuckets(new AdClicksQuery("adv", "ad", granularity, range));

        Assert.Equal(new QuerySegment(granularity, range), segment);
    }

    [Fact]
    public void Totals_read_whole_days_from_days_and_only_the_ragged_edges_from_hours_and_minutes()
    {
        var plan = QueryPlanner.ForTotals(new TimeRange(At("2026-01-01T22:30:00Z"), At("2026-01-05T01:15:00Z")));

        Assert.Equal(
        [
            new QuerySegment(Granularity.Day, new TimeRange(At("2026-01-02T00:00:00Z"), At("2026-01-05T00:00:00Z"))),
            new QuerySegment(Granularity.Hour, new TimeRange(At("2026-01-01T23:00:00Z"), At("2026-01-02T00:00:00Z"))),
            new QuerySegment(Granularity.Hour, new TimeRange(At("2026-01-05T00:00:00Z"), At("2026-01-05T01:00:00Z"))),
            new QuerySegment(Granularity.Minute, new TimeRange(At("2026-01-01T22:30:00Z"), At("2026-01-01T23:00:00Z"))),
            new QuerySegment(Granularity.Minute, new TimeRange(At("2026-01-05T01:00:00Z"), At("2026-01-05T01:15:00Z"))),
        ], plan);
    }

    [Fact]
    public void A_range_of_whole_days_is_one_day_segment() =>
        Assert.Equal(
            [new QuerySegment(Granularity.Day, new TimeRange(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z")))],
            QueryPlanner.ForTotals(new TimeRange(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z"))));

    [Fact]
    public void A_range_inside_one_hour_reads_only_minutes() =>
        Assert.Equal(
            [new QuerySegment(Granularity.Minute, new TimeRange(At("2026-01-01T10:05:00Z"), At("2026-01-01T10:50:00Z")))],
            QueryPlanner.ForTotals(new TimeRange(At("2026-01-01T10:05:00Z"), At("2026-01-01T10:50:00Z"))));

    [Fact]
    public void Segments_always_cover_the_range_exactly_without_overlap()
    {
        var random = new Random(7);
        var origin = At("2026-01-01T00:00:00Z");
        for (int i = 0; i < 500; i++)
        {
            var from = origin.AddMinutes(random.Next(0, 60 * 24 * 40));
            var to = from.AddMinutes(random.Next(1, 60 * 24 * 40));
            var plan = QueryPlanner.ForTotals(new TimeRange(from, to));
            var ordered = plan.OrderBy(s => s.Range.From).ToList();
            Assert.Equal(from, ordered[0].Range.From);
            Assert.Equal(to, ordered[^1].Range.To);
            for (int j = 1; j < ordered.Count; j++)
            {
                Assert.Equal(ordered[j - 1].Range.To, ordered[j].Range.From);
            }
            Assert.All(plan, s => Assert.True(s.Rollup.IsAligned(s.Range.From) && s.Rollup.IsAligned(s.Range.To)));
            Assert.True(plan.Count <= 5);
        }
    }
}
