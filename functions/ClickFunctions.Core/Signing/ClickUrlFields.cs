using System.Buffers;

namespace ClickFunctions.Signing;

/// <summary>
/// What a click URL asserts, before signing or after verification. Ids are 1-64 characters of
/// <c>A-Z a-z 0-9 . _ ~ -</c> (unreserved URL characters: they need no escaping and cannot smuggle separators);
/// advertiser ids only of <c>a-z 0-9 . _ ~ -</c> (<see cref="IsValidAdvertiserId"/>).
/// </summary>
public sealed record ClickUrlFields(
    string AdId,
    string AdvertiserId,
    string LandingUrl,
    string? CampaignId = null,
    string? ImpressionId = null,
    DateTimeOffset? ExpiresAt = null,
    string? Publisher = null,
    string? Placement = null,
    string? Creative = null,
    string? SubId = null)
{
    /// <summary>True when any of the four optional breakdown fields (issue 14) is present: the URL is signed as cf2.</summary>
    public bool HasBreakdownFields => Publisher is not null || Placement is not null || Creative is not null || SubId is not null;

    public const int MaxIdLength = 64;

    private static readonly SearchValues<char> IdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-");

    /// <summary>The alphabet of advertiser ids, documented in docs/click-urls.md and docs/query-api.md.</summary>
    public const string AdvertiserIdRule = "an advertiser id is 1-64 characters of a-z 0-9 . _ ~ - (lower case)";

    private static readonly SearchValues<char> AdvertiserIdChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789._~-");

    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && !id.AsSpan().ContainsAnyExcept(IdChars);

    /// <summary>
    /// Advertiser ids are lower case: an advertiser is a tenant, and .NET configuration (where the local host's API
    /// keys live) compares keys ignoring case, so <c>acme</c> and <c>ACME</c> could not be told apart there.
    /// </summary>
    public static bool IsValidAdvertiserId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && !id.AsSpan().ContainsAnyExcept(AdvertiserIdChars);

    /// <summary>Checks every field; returns null when all are acceptable, else a short reason.</summary>
    public string? Validate()
    {
        if (!IsValidId(AdId))
        {
            return "ad id must be 1-64 characters of A-Z a-z 0-9 . _ ~ -";
        }
        if (!IsValidAdvertiserId(AdvertiserId))
        {
            return AdvertiserIdRule;
        }
        if (CampaignId is not null && !IsValidId(CampaignId))
        {
            return "campaign id must be 1-64 characters of A-Z a-z 0-9 . _ ~ -";
        }
        if (ImpressionId is not null && !IsValidId(ImpressionId))
        {
            return "impression id must be 1-64 characters of A-Z a-z 0-9 . _ ~ -";
        }
        foreach (var (name, value) in (ReadOnlySpan<(string, string?)>)[("publisher", Publisher), ("placement", Placement), ("creative", Creative), ("sub id", SubId)])
        {
            if (value is not null && !IsValidId(value))
            {
                return name + " must be 1-64 characters of A-Z a-z 0-9 . _ ~ -";
            }
        }
        return LandingUrls.Validate(LandingUrl);
    }
}
