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
    /// <summary>Breakdown dimensions decided at capture; <see cref="ClickDimensions.Unknown"/> for version-1 events.</summary>
    public ClickDimensions Dimensions { get; init; } = ClickDimensions.Unknown;

    /// <summary>The referrer dimension: <see cref="ReferrerHost"/>, or <c>direct</c> when the click had none.</summary>
    public string Referrer => ReferrerHost.Length == 0 ? DirectReferrer : ReferrerHost;

    /// <summary>The referrer value of a click without a (parseable) Referer header.</summary>
    public const string DirectReferrer = "direct";

    public bool IsValid => Reason == ClickReason.Valid;

    /// <summary>The UTC minute the click falls in; buckets are half-open [minute, minute + 1 min).</summary>
    public DateTimeOffset Minute => TimeBuckets.FloorToMinute(Timestamp);
}
