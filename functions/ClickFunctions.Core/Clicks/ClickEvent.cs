namespace ClickFunctions.Clicks;

/// <summary>
/// One recorded click, as it travels in Event Hubs bodies and local log records (see <see cref="ClickWireFormat"/>).
/// Holds no raw IP: only <see cref="TruncatedIp"/> and the keyed <see cref="Fingerprint"/>.
/// </summary>
public sealed record ClickEvent(
    ClickId ClickId,
    DateTimeOffset Timestamp,
    string AdId,
    string AdvertiserId,
    string CampaignId,
    ClickReason Reason,
    string ReferrerHost,
    string TruncatedIp,
    Fingerprint Fingerprint)
{
    public bool IsValid => Reason == ClickReason.Valid;

    /// <summary>The UTC minute the click falls in; buckets are half-open [minute, minute + 1 min).</summary>
    public DateTimeOffset Minute => TimeBuckets.FloorToMinute(Timestamp);
}
