using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ClickFunctions.Signing;

/// <summary>
/// Signs and verifies click URLs (docs/click-urls.md). The canonical string, UTF-8 encoded, is
/// <code>cf1\n{kid}\n{ad}\n{adv}\n{cmp}\n{imp}\n{exp}\n{url}</code>
/// with absent optional fields empty and <c>exp</c> in Unix seconds. A URL with any of the breakdown fields
/// <c>pub</c>, <c>plc</c>, <c>crv</c>, <c>sub</c> (issue 14) signs
/// <code>cf2\n{kid}\n{ad}\n{adv}\n{cmp}\n{imp}\n{exp}\n{pub}\n{plc}\n{crv}\n{sub}\n{url}</code>
/// instead, so URLs signed before them verify unchanged, and neither adding nor stripping one keeps a signature
/// valid (the version line differs). The signature is
/// base64url(HMAC-SHA256(key, canonical)) without padding. No field can contain "\n" (ids are unreserved
/// characters, URLs printable ASCII), so the string is unambiguous.
/// </summary>
public sealed class ClickUrlSigner(SigningKeyRing keys)
{
    public const string Version = "cf1";

    /// <summary>The canonical version of a URL carrying any of pub, plc, crv, sub.</summary>
    public const string VersionWithBreakdown = "cf2";
    private const int SignatureBytes = 32;

    public SigningKeyRing Keys { get; } = keys;

    /// <summary>Returns the query string (without "?") of a click URL for <paramref name="fields"/>, signed with the current key.</summary>
    public string SignQuery(ClickUrlFields fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(fields));
        }
        var key = Keys.Current;
        string exp = ExpiryText(fields.ExpiresAt);
        string sig = Signature(key, Canonical(key.Id, fields, exp));
        var query = new StringBuilder(128 + fields.LandingUrl.Length);
        Append(query, ClickUrlParameterNames.Ad, fields.AdId);
        Append(query, ClickUrlParameterNames.Advertiser, fields.AdvertiserId);
        Append(query, ClickUrlParameterNames.Campaign, fields.CampaignId);
        Append(query, ClickUrlParameterNames.Impression, fields.ImpressionId);
        Append(query, ClickUrlParameterNames.Expires, exp.Length == 0 ? null : exp);
        Append(query, ClickUrlParameterNames.Publisher, fields.Publisher);
        Append(query, ClickUrlParameterNames.Placement, fields.Placement);
        Append(query, ClickUrlParameterNames.Creative, fields.Creative);
        Append(query, ClickUrlParameterNames.SubId, fields.SubId);
        Append(query, ClickUrlParameterNames.Url, fields.LandingUrl);
        Append(query, ClickUrlParameterNames.KeyId, key.Id);
        Append(query, ClickUrlParameterNames.Signature, sig);
        return query.ToString();
    }

    public VerificationResult Verify(ClickUrlParameters parameters, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.DuplicateName is { } duplicate)
        {
            return VerificationResult.Fail(VerificationStatus.Malformed, $"parameter '{duplicate}' appears more than once");
        }
        if (parameters.MiscasedName is { } miscased)
        {
            return VerificationResult.Fail(VerificationStatus.Malformed, $"parameter '{miscased}' is not a click parameter (names are exact, lower case: {ClickUrlParameterNames.Miscased(miscased)})");
        }
        if (parameters.Signature is null || parameters.KeyId is null)
        {
            return VerificationResult.Fail(VerificationStatus.NotSigned, "the click URL is not signed (kid and sig are required)");
        }
        if (parameters.AdId is null || parameters.AdvertiserId is null || parameters.Url is null)
        {
            return VerificationResult.Fail(VerificationStatus.Malformed, "the click URL is missing ad, adv or u");
        }
        DateTimeOffset? expiresAt = null;
        if (parameters.Expires is not null)
        {
            // The one decimal spelling: digits only, no sign, no leading zero (docs/click-urls.md), so one expiry has
            // one signed text.
            if ((parameters.Expires.Length > 1 && parameters.Expires[0] == '0') ||
                !long.TryParse(parameters.Expires, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) ||
                seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            {
                return VerificationResult.Fail(VerificationStatus.Malformed, "exp must be Unix seconds in decimal, without sign or leading zeros");
            }
            expiresAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        }
        var fields = new ClickUrlFields(parameters.AdId, parameters.AdvertiserId, parameters.Url, parameters.CampaignId, parameters.ImpressionId, expiresAt,
            parameters.Publisher, parameters.Placement, parameters.Creative, parameters.SubId);
        if (fields.Validate() is { } problem)
        {
            return VerificationResult.Fail(VerificationStatus.Malformed, problem);
        }
        var key = Keys.Find(parameters.KeyId);
        if (key is null)
        {
            return VerificationResult.Fail(VerificationStatus.UnknownKey, "the click URL was signed with an unknown key");
        }
        // Compare the text itself with the one canonical encoding of the expected MAC: base64url has several
        // spellings of the same bytes (the last character's spare bits), and only one of them is the signature.
        string expected = Signature(key, Canonical(key.Id, fields, parameters.Expires ?? ""));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parameters.Signature)))
        {
            return VerificationResult.Fail(VerificationStatus.BadSignature, "the signature is invalid");
        }
        // Expiry is checked after the signature so that an attacker learns nothing from editing exp.
        if (expiresAt is { } expiry && now >= expiry)
        {
            return VerificationResult.Fail(VerificationStatus.Expired, "the click URL has expired");
        }
        return VerificationResult.Ok(fields);
    }

    /// <summary>The exact string that is MACed; public so that docs and test vectors can show it.</summary>
    public static string Canonical(string keyId, ClickUrlFields fields, string expiresText)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.HasBreakdownFields)
        {
            return string.Join('\n', VersionWithBreakdown, keyId, fields.AdId, fields.AdvertiserId, fields.CampaignId ?? "", fields.ImpressionId ?? "", expiresText,
                fields.Publisher ?? "", fields.Placement ?? "", fields.Creative ?? "", fields.SubId ?? "", fields.LandingUrl);
        }
        return string.Join('\n', Version, keyId, fields.AdId, fields.AdvertiserId, fields.CampaignId ?? "", fields.ImpressionId ?? "", expiresText, fields.LandingUrl);
    }

    public static string ExpiryText(DateTimeOffset? expiresAt) =>
        expiresAt is { } e ? e.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) : "";

    private static string Signature(SigningKey key, string canonical)
    {
        Span<byte> mac = stackalloc byte[SignatureBytes];
        HMACSHA256.HashData(key.Secret, Encoding.UTF8.GetBytes(canonical), mac);
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (value is null)
        {
            return;
        }
        if (query.Length > 0)
        {
            query.Append('&');
        }
        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }
}
