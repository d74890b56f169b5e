namespace ClickFunctions.Signing;

/// <summary>
/// The raw (already percent-decoded) parameters of a click request; null where absent. <paramref name="DuplicateName"/>
/// is a click parameter given more than once, <paramref name="MiscasedName"/> a parameter spelled like a click
/// parameter in another letter case (names are exact: <c>AD</c> is not <c>ad</c>); either makes the URL invalid.
/// </summary>
public sealed record ClickUrlParameters(
    string? AdId,
    string? AdvertiserId,
    string? Url,
    string? CampaignId,
    string? ImpressionId,
    string? Expires,
    string? KeyId,
    string? Signature,
    string? DuplicateName = null,
    string? MiscasedName = null,
    string? Publisher = null,
    string? Placement = null,
    string? Creative = null,
    string? SubId = null);

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
    public const string Publisher = "pub";
    public const string Placement = "plc";
    public const string Creative = "crv";
    public const string SubId = "sub";

    public static readonly IReadOnlyList<string> All = [Ad, Advertiser, Campaign, Impression, Expires, Url, KeyId, Signature, Publisher, Placement, Creative, SubId];

    /// <summary>The click parameter <paramref name="name"/> spells in another letter case, or null.</summary>
    public static string? Miscased(string name)
    {
        foreach (var known in All)
        {
            if (!string.Equals(known, name, StringComparison.Ordinal) && string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }
        return null;
    }
}
