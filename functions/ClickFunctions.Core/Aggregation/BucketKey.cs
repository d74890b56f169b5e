namespace ClickFunctions.Aggregation;

/// <summary>One per-minute bucket: an ad of an advertiser's campaign in one UTC minute.</summary>
/// <remarks>
/// Equality is the record's (ordinal strings, the minute's UTC instant); the hash covers only the ad and the minute
/// (an ad belongs to one campaign of one advertiser, so the other two ids add string hashing per event and nearly no
/// spread), and equality compares the minute first. Decision 096.
/// </remarks>
public readonly record struct BucketKey(string AdvertiserId, string CampaignId, string AdId, DateTimeOffset Minute)
{
    public bool Equals(BucketKey other) =>
        Minute.UtcTicks == other.Minute.UtcTicks
        && string.Equals(AdId, other.AdId, StringComparison.Ordinal)
        && string.Equals(CampaignId, other.CampaignId, StringComparison.Ordinal)
        && string.Equals(AdvertiserId, other.AdvertiserId, StringComparison.Ordinal);

    public override int GetHashCode() => HashCode.Combine(AdId is null ? 0 : AdId.GetHashCode(StringComparison.Ordinal), Minute.UtcTicks);
}
