namespace ClickFunctions.Clicks;

/// <summary>
/// A click event's fields as the aggregation step reads them, decoded in place into a pooled array instead of a
/// <see cref="ClickEvent"/> and a <see cref="ClickDimensions"/> object per event (decision 097). The same fields and
/// values as <see cref="ClickWireFormat.Decode(ReadOnlySpan{byte})"/> gives, which builds its event from this.
/// </summary>
internal struct DecodedClick
{
    public ClickId ClickId;
    public DateTimeOffset Timestamp;
    public Fingerprint Fingerprint;
    public ClickReason Reason;
    public string AdId;
    public string AdvertiserId;
    public string CampaignId;
    public string ReferrerHost;
    /// <summary>Null when decoded for the step (it counts nothing by it).</summary>
    public string? TruncatedIp;
    public string Country;
    public string Device;
    public string Os;
    public string Browser;
    public string Publisher;
    public string Placement;
    public string Creative;
    public string SubId;

    public readonly bool IsValid => Reason == ClickReason.Valid;

    /// <summary>The UTC minute the click falls in, as <see cref="ClickEvent.Minute"/>.</summary>
    public readonly DateTimeOffset Minute => TimeBuckets.FloorToMinute(Timestamp);

    public static DecodedClick From(ClickEvent click)
    {
        var d = click.Dimensions;
        return new DecodedClick
        {
            ClickId = click.ClickId,
            Timestamp = click.Timestamp,
            Fingerprint = click.Fingerprint,
            Reason = click.Reason,
            AdId = click.AdId,
            AdvertiserId = click.AdvertiserId,
            CampaignId = click.CampaignId,
            ReferrerHost = click.ReferrerHost,
            TruncatedIp = click.TruncatedIp,
            Country = d.Country,
            Device = d.Device,
            Os = d.Os,
            Browser = d.Browser,
            Publisher = d.Publisher,
            Placement = d.Placement,
            Creative = d.Creative,
            SubId = d.SubId,
        };
    }

    public readonly ClickEvent ToClickEvent(bool hasDimensions) =>
        new(ClickId, Timestamp, AdId, AdvertiserId, CampaignId, Reason, ReferrerHost, TruncatedIp ?? throw new InvalidOperationException("Decoded without the IP."), Fingerprint)
        {
            Dimensions = hasDimensions ? new ClickDimensions(Country, Device, Os, Browser, Publisher, Placement, Creative, SubId) : ClickDimensions.Unknown,
        };
}
