using ClickFunctions.Queries;

namespace ClickFunctions.Tests.Queries;

public class QueryParametersTests
{
    private static (AdClicksQuery? Query, string? Problem) Parse(string? from, string? to, string? granularity, string adId = "ad-1")
    {
        QueryParameters.TryAdClicks("adv-1", adId, from, to, granularity, null, null, out var query, out var problem);
        return (query, problem);
    }

    [Fact]
    public void A_valid_request_becomes_a_half_open_utc_query()
    {
        var (query, problem) = Parse("2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z", "hour");

        Assert.Null(problem);
        Assert.Equal(new AdClicksQuery("adv-1", "ad-1", Granularity.Hour,
            new TimeRange(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero)), TimeZoneInfo.Utc), query);
    }

    [Theory]
    [InlineData(null, "2026-11-30T00:00:00Z", "day", "from is required")]
    [InlineData("2026-11-29T00:00:00Z", null, "day", "to is required")]
    [InlineData("yesterday", "2026-11-30T00:00:00Z", "day", "from must be an ISO-8601 UTC time")]
    [InlineData("2026-11-29T00:00:00+01:00", "2026-11-30T00:00:00Z", "day", "from must be in UTC")]
    [InlineData("2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z", null, "granularity is required")]
    [InlineData("2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z", "fortnight", "granularity must be minute, hour, day, week or month")]
    [InlineData("2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z", "week", "from must start a week")]
    [InlineData("2026-11-30T00:00:00Z", "2026-11-29T00:00:00Z", "day", "from must be before to")]
    [InlineData("2026-11-29T00:00:00Z", "2026-11-29T00:00:00Z", "minute", "from must be before to")]
    [InlineData("2026-11-29T01:00:00Z", "2026-11-30T00:00:00Z", "day", "from must be aligned to a whole day")]
    [InlineData("2026-11-29T00:00:00Z", "2026-11-29T10:30:00Z", "hour", "to must be aligned to a whole hour")]
    [InlineData("2026-11-29T00:00:30Z", "2026-11-29T10:30:00Z", "minute", "from must be aligned to a whole minute")]
    public void A_bad_parameter_is_refused_with_a_message_naming_it(string? from, string? to, string? granularity, string expected)
    {
        var (query, problem) = Parse(from, to, granularity);

        Assert.Null(query);
        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("minute", "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", "2026-11-08T00:01:00Z")]
    [InlineData("hour", "2026-01-01T00:00:00Z", "2027-01-02T00:00:00Z", "2027-01-02T01:00:00Z")]
    [InlineData("day", "2016-01-01T00:00:00Z", "2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z")]
    public void The_largest_range_per_granularity_is_accepted_and_a_larger_one_refused_clearly(string granularity, string from, string maxTo, string tooFar)
    {
        Assert.Null(Parse(from, maxTo, granularity).Problem);

        var (query, problem) = Parse(from, tooFar, granularity);

        Assert.Null(query);
        Assert.Contains($"too large for granularity={granularity}", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ad_id_outside_the_id_alphabet_is_refused() =>
        Assert.StartsWith("adId must be", Parse("2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z", "day", "ad/../x").Problem, StringComparison.Ordinal);

    [Fact]
    public void The_advertiser_listing_takes_minute_aligned_ranges()
    {
        Assert.True(QueryParameters.TryAdvertiserAds("adv-1", "2026-11-29T00:07:00Z", "2026-11-29T10:30:00Z", out _, out _));
        Assert.False(QueryParameters.TryAdvertiserAds("adv-1", "2026-11-29T00:07:01Z", "2026-11-29T10:30:00Z", out _, out var problem));
        Assert.Contains("aligned to a whole minute", problem, StringComparison.Ordinal);
    }
}
