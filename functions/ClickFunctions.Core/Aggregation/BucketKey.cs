namespace ClickFunctions.Aggregation;

/// <summary>One per-minute bucket: an ad of an advertiser's campaign in one UTC minute.</summary>
public readonly record struct BucketKey(string AdvertiserId, string CampaignId, string AdId, DateTimeOffset Minute);
