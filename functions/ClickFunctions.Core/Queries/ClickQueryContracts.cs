namespace ClickFunctions.Queries;

/// <summary>What <c>GET /api/ads/{adId}/clicks</c> asks for, already validated (see <see cref="QueryParameters"/>).</summary>
public sealed record AdClicksQuery(string AdvertiserId, string AdId, Granularity Granularity, TimeRange Range);

/// <summary>What <c>GET /api/advertisers/{advertiserId}/ads</c> asks for, already validated.</summary>
public sealed record AdvertiserAdsQuery(string AdvertiserId, TimeRange Range);

/// <summary>Valid clicks and invalid clicks (all reasons, duplicates included).</summary>
public sealed record ClickTotals(long Clicks, long InvalidClicks);

/// <summary>One non-empty bucket; <see cref="Start"/> is its UTC start, its end is start + granularity.</summary>
public sealed record ClickBucket(DateTime Start, long Clicks, long InvalidClicks);

/// <summary>
/// The response of the ad clicks query, identical in both hosts:
/// <c>{"adId","advertiserId","granularity","from","to","total":{"clicks","invalidClicks"},"buckets":[{"start","clicks","invalidClicks"}]}</c>.
/// Times are UTC (<see cref="DateTimeKind.Utc"/>, written with a trailing Z); empty buckets are omitted.
/// </summary>
public sealed record AdClicks(
    string AdId,
    string AdvertiserId,
    string Granularity,
    DateTime From,
    DateTime To,
    ClickTotals Total,
    IReadOnlyList<ClickBucket> Buckets)
{
    /// <summary>Builds the response from non-empty buckets in ascending start order.</summary>
    public static AdClicks Create(AdClicksQuery query, IReadOnlyList<ClickBucket> buckets)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(buckets);
        long clicks = 0;
        long invalid = 0;
        foreach (var bucket in buckets)
        {
            clicks += bucket.Clicks;
            invalid += bucket.InvalidClicks;
        }
        return new AdClicks(
            query.AdId,
            query.AdvertiserId,
            query.Granularity.Code(),
            query.Range.From.UtcDateTime,
            query.Range.To.UtcDateTime,
            new ClickTotals(clicks, invalid),
            buckets);
    }
}

/// <summary>One ad of an advertiser with its totals over the requested range.</summary>
public sealed record AdTotals(string AdId, string CampaignId, long Clicks, long InvalidClicks);

/// <summary>
/// The response of the advertiser listing: <c>{"advertiserId","from","to","ads":[{"adId","campaignId","clicks","invalidClicks"}],"nextCursor"}</c>,
/// one entry per (ad, campaign) as the bucket key has it, for those with any click (valid or not) in the range, ordered
/// by valid clicks descending, then ad id, then campaign id.
/// </summary>
public sealed record AdvertiserAds(string AdvertiserId, DateTime From, DateTime To, IReadOnlyList<AdTotals> Ads)
{
    /// <summary>With <c>limit</c>: the <c>cursor</c> of the next page, or null on the last page.</summary>
    public string? NextCursor { get; init; }

    public static readonly IComparer<AdTotals> Order = Comparer<AdTotals>.Create((a, b) =>
    {
        int byClicks = b.Clicks.CompareTo(a.Clicks);
        int byAd = byClicks != 0 ? byClicks : string.CompareOrdinal(a.AdId, b.AdId);
        return byAd != 0 ? byAd : string.CompareOrdinal(a.CampaignId, b.CampaignId);
    });
}
