using System.Text.Json.Serialization;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;

namespace ClickFunctions.Queries;

/// <summary>
/// What <c>GET /api/ads/{adId}/clicks</c> asks for, already validated (see <see cref="QueryParameters"/>):
/// <see cref="Range"/> is UTC and its ends are bucket boundaries of <see cref="Granularity"/> in <see cref="Zone"/>.
/// </summary>
public sealed record AdClicksQuery(string AdvertiserId, string AdId, Granularity Granularity, TimeRange Range, TimeZoneInfo? Zone = null)
{
    public TimeZoneInfo TimeZone => Zone ?? TimeZoneInfo.Utc;
}

/// <summary>What <c>GET /api/advertisers/{advertiserId}/ads</c> asks for, already validated.</summary>
public sealed record AdvertiserAdsQuery(string AdvertiserId, TimeRange Range);

/// <summary>Invalid clicks by reason code (<see cref="ClickReasons.Code"/>), every invalid reason present, zeros included.</summary>
public static class InvalidReasons
{
    public static readonly IReadOnlyList<ClickReason> All = [.. ClickReasons.All.Where(r => r != ClickReason.Valid)];

    public static readonly IReadOnlyDictionary<string, long> Empty = ByCode(new BucketCounts());

    public static IReadOnlyDictionary<string, long> ByCode(BucketCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var byCode = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var reason in All)
        {
            byCode[reason.Code()] = counts.InvalidByReason[(int)reason];
        }
        return byCode;
    }

    /// <summary>Invalid clicks as a share of all clicks, 0 with no clicks; rounded to 4 decimals.</summary>
    public static double Rate(long clicks, long invalidClicks) =>
        clicks + invalidClicks == 0 ? 0 : Math.Round((double)invalidClicks / (clicks + invalidClicks), 4, MidpointRounding.AwayFromZero);
}

/// <summary>
/// Valid clicks and invalid clicks (all reasons, duplicates included), the latter by reason. Equality compares the two
/// counts (the split by reason always sums to <see cref="InvalidClicks"/>; tests of the split read it directly).
/// </summary>
public sealed record ClickTotals(long Clicks, long InvalidClicks)
{
    public IReadOnlyDictionary<string, long> InvalidByReason { get; init; } = InvalidReasons.Empty;

    public double InvalidRate => InvalidReasons.Rate(Clicks, InvalidClicks);

    public static ClickTotals Of(BucketCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return new ClickTotals(counts.Clicks, counts.InvalidClicks) { InvalidByReason = InvalidReasons.ByCode(counts) };
    }

    public bool Equals(ClickTotals? other) => other is not null && Clicks == other.Clicks && InvalidClicks == other.InvalidClicks;

    public override int GetHashCode() => HashCode.Combine(Clicks, InvalidClicks);
}

/// <summary>
/// One non-empty bucket. <see cref="Start"/> carries the zone's offset at that instant; the bucket ends where the
/// next one of its granularity starts. <see cref="Final"/>: a reconciliation confirmed every minute of it. Equality
/// compares the instant and the two counts.
/// </summary>
public sealed record ClickBucket(
    [property: JsonConverter(typeof(OffsetTimeJsonConverter))] DateTimeOffset Start,
    long Clicks,
    long InvalidClicks)
{
    public IReadOnlyDictionary<string, long> InvalidByReason { get; init; } = InvalidReasons.Empty;

    public double InvalidRate => InvalidReasons.Rate(Clicks, InvalidClicks);

    public bool Final { get; init; }

    public bool Equals(ClickBucket? other) => other is not null && Start == other.Start && Clicks == other.Clicks && InvalidClicks == other.InvalidClicks;

    public override int GetHashCode() => HashCode.Combine(Start, Clicks, InvalidClicks);
}

/// <summary>
/// The response of the ad clicks query, identical in both hosts:
/// <c>{"adId","advertiserId","granularity","timeZone","from","to","finalThrough","total":{…},"buckets":[{"start","clicks","invalidClicks","invalidByReason","invalidRate","final"}]}</c>.
/// Times carry the zone's offset at that instant (<c>Z</c> for UTC); empty buckets are omitted.
/// </summary>
public sealed record AdClicks(
    string AdId,
    string AdvertiserId,
    string Granularity,
    string TimeZone,
    [property: JsonConverter(typeof(OffsetTimeJsonConverter))] DateTimeOffset From,
    [property: JsonConverter(typeof(OffsetTimeJsonConverter))] DateTimeOffset To,
    [property: JsonConverter(typeof(NullableOffsetTimeJsonConverter))] DateTimeOffset? FinalThrough,
    ClickTotals Total,
    IReadOnlyList<ClickBucket> Buckets);

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

/// <summary>
/// What the breakdown endpoints ask for, validated: one ad's (<see cref="AdId"/> set) or the whole advertiser's clicks
/// in <see cref="Range"/> grouped by <see cref="By"/> — a click dimension, or <c>ad</c> / <c>campaign</c> (advertiser only,
/// then <see cref="Dimension"/> is null).
/// </summary>
public sealed record BreakdownQuery(string AdvertiserId, string? AdId, string By, ClickDimension? Dimension, TimeRange Range, TimeZoneInfo Zone, int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const string Ad = "ad";
    public const string Campaign = "campaign";

    /// <summary>The value the rows past <see cref="Limit"/> are summed into.</summary>
    public const string Other = "other";
}

/// <summary>One value of the breakdown with its valid and invalid clicks.</summary>
public sealed record BreakdownRow(string Value, long Clicks, long InvalidClicks);

/// <summary>
/// The response of both breakdown endpoints: <c>{"by","adId"?,"advertiserId","timeZone","from","to","rows":[{"value","clicks","invalidClicks"}]}</c>,
/// rows by valid clicks descending (then invalid clicks descending, then value), at most <c>limit</c> of them plus one
/// <c>other</c> row summing the rest.
/// </summary>
public sealed record Breakdown(
    string By,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AdId,
    string AdvertiserId,
    string TimeZone,
    [property: JsonConverter(typeof(OffsetTimeJsonConverter))] DateTimeOffset From,
    [property: JsonConverter(typeof(OffsetTimeJsonConverter))] DateTimeOffset To,
    IReadOnlyList<BreakdownRow> Rows)
{
    public static readonly IComparer<BreakdownRow> Order = Comparer<BreakdownRow>.Create((a, b) =>
    {
        int byClicks = b.Clicks.CompareTo(a.Clicks);
        if (byClicks != 0)
        {
            return byClicks;
        }
        int byInvalid = b.InvalidClicks.CompareTo(a.InvalidClicks);
        return byInvalid != 0 ? byInvalid : string.CompareOrdinal(a.Value, b.Value);
    });

    /// <summary>Orders the summed rows and folds those past the limit into one <c>other</c> row (added to an existing one).</summary>
    public static Breakdown Create(BreakdownQuery query, IEnumerable<BreakdownRow> rows)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(rows);
        var sorted = rows.Where(r => r.Clicks != 0 || r.InvalidClicks != 0).ToList();
        sorted.Sort(Order);
        var kept = sorted.Take(query.Limit).ToList();
        if (sorted.Count > query.Limit)
        {
            long clicks = 0, invalid = 0;
            foreach (var row in sorted.Skip(query.Limit))
            {
                clicks += row.Clicks;
                invalid += row.InvalidClicks;
            }
            int existing = kept.FindIndex(r => r.Value == BreakdownQuery.Other);
            if (existing >= 0)
            {
                kept[existing] = new BreakdownRow(BreakdownQuery.Other, kept[existing].Clicks + clicks, kept[existing].InvalidClicks + invalid);
            }
            else
            {
                kept.Add(new BreakdownRow(BreakdownQuery.Other, clicks, invalid));
            }
        }
        var zone = query.Zone;
        return new Breakdown(query.By, query.AdId, query.AdvertiserId, zone.Id, LocalCalendar.InZone(zone, query.Range.From), LocalCalendar.InZone(zone, query.Range.To), kept);
    }
}
