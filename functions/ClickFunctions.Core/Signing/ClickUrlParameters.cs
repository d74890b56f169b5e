namespace ClickFunctions.Signing;

/// <summary>The raw (already percent-decoded) parameters of a click request; null where absent.</summary>
public sealed record ClickUrlParameters(
    string? AdId,
    string? AdvertiserId,
    string? Url,
    string? CampaignId,
    string? ImpressionId,
    string? Expires,
    string? KeyId,
    string? Signature,
    string? DuplicateName = null);

/// <summary>Query parameter names of a click URL.</summary>
public static class ClickUrlParameterNames
{
    public const string Ad = "ad";
    public const string Advertiser = "adv";
    public const string Campaign = "cmp";
    public const string Impression = "imp";
    public const string Expires = "exp";
    public const string Url = "u";
    public const string KeyId = "kid";
    public const string Signature = "sig";

    public static readonly IReadOnlyList<string> All = [Ad, Advertiser, Campaign, Impression, Expires, Url, KeyId, Signature];
}
