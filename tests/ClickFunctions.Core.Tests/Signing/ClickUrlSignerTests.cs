using System.Text.Json;
using ClickFunctions.Signing;
using Microsoft.AspNetCore.WebUtilities;

namespace ClickFunctions.Tests.Signing;

public class ClickUrlSignerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly SigningKey Current = new("k1", [.. Enumerable.Range(0, 32).Select(i => (byte)i)]);
    private static readonly SigningKey Previous = new("k0", [.. Enumerable.Range(32, 32).Select(i => (byte)i)]);
    private static readonly ClickUrlSigner Signer = new(new SigningKeyRing(Current, Previous));

    public static TheoryData<string> VectorNames() => [.. LoadVectors().Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Canonical_string_and_signature_match_the_documented_test_vector(string name)
    {
        var v = LoadVectors().Single(x => x.Name == name);
        var key = new SigningKey(v.KeyId, Convert.FromBase64String(v.KeyBase64));
        var fields = v.Fields();

        Assert.Equal(v.Canonical, ClickUrlSigner.Canonical(v.KeyId, fields, ClickUrlSigner.ExpiryText(fields.ExpiresAt)));
        Assert.Equal(v.Query, new ClickUrlSigner(new SigningKeyRing(key)).SignQuery(fields));
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void A_documented_test_vector_verifies_with_the_key_ring_holding_its_key(string name)
    {
        var v = LoadVectors().Single(x => x.Name == name);
        var result = Signer.Verify(Parse(v.Query), Now);

        Assert.True(result.IsValid, result.Problem);
        Assert.Equal(v.LandingUrl, result.Fields!.LandingUrl);
        Assert.Equal(v.Fields(), result.Fields);
    }

    [Theory]
    [InlineData("pub", "other-site")]
    [InlineData("plc", "footer")]
    [InlineData("crv", "crv-2")]
    [InlineData("sub", "s-2")]
    public void Breakdown_fields_are_signed_so_changing_adding_or_stripping_one_is_refused(string parameter, string value)
    {
        var fields = new ClickUrlFields("ad-1", "adv-1", "https://example.com/", Publisher: "site-1", Placement: "top", Creative: "crv-1", SubId: "s-1");
        var query = QueryHelpers.ParseQuery(Signer.SignQuery(fields));
        Assert.True(Signer.Verify(Parse(Signer.SignQuery(fields)), Now).IsValid);

        var changed = query.ToDictionary(p => p.Key, p => p.Value.ToString());
        changed[parameter] = value;
        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(Parse(QueryHelpers.AddQueryString("", changed!).TrimStart('?')), Now).Status);

        var stripped = query.ToDictionary(p => p.Key, p => p.Value.ToString());
        stripped.Remove(parameter);
        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(Parse(QueryHelpers.AddQueryString("", stripped!).TrimStart('?')), Now).Status);

        // Adding one to a URL signed without any (a cf1 URL) is refused too: the canonical version changes.
        var plain = QueryHelpers.ParseQuery(Signer.SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/"))).ToDictionary(p => p.Key, p => p.Value.ToString());
        plain[parameter] = value;
        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(Parse(QueryHelpers.AddQueryString("", plain!).TrimStart('?')), Now).Status);
    }

    [Theory]
    [InlineData("pub", "")]
    [InlineData("plc", "a b")]
    [InlineData("crv", "x/y")]
    public void Breakdown_fields_follow_the_id_alphabet(string parameter, string value)
    {
        var query = QueryHelpers.ParseQuery(Signer.SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/"))).ToDictionary(p => p.Key, p => p.Value.ToString());
        query[parameter] = value;
        Assert.Equal(VerificationStatus.Malformed, Signer.Verify(Parse(QueryHelpers.AddQueryString("", query!).TrimStart('?')), Now).Status);
    }

    [Fact]
    public void A_url_signed_with_the_current_key_verifies_and_yields_its_fields()
    {
        var fields = new ClickUrlFields("ad-1", "adv-1", "https://example.com/a?b=c", "cmp-1", "imp-1", Now.AddHours(1));
        var result = Signer.Verify(Parse(Signer.SignQuery(fields)), Now);

        Assert.Equal(VerificationStatus.Valid, result.Status);
        Assert.Equal(fields, result.Fields);
    }

    [Theory]
    [InlineData("ad", "ad-2")]
    [InlineData("adv", "adv-2")]
    [InlineData("cmp", "cmp-2")]
    [InlineData("imp", "imp-2")]
    [InlineData("u", "https://evil.example/")]
    [InlineData("exp", "1900000000")]
    public void Changing_any_signed_parameter_invalidates_the_signature(string parameter, string value)
    {
        var query = Parse(Signer.SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/", "cmp-1", "imp-1", Now.AddDays(1))));
        var tampered = parameter switch
        {
            "ad" => query with { AdId = value },
            "adv" => query with { AdvertiserId = value },
            "cmp" => query with { CampaignId = value },
            "imp" => query with { ImpressionId = value },
            "u" => query with { Url = value },
            _ => query with { Expires = value },
        };

        var result = Signer.Verify(tampered, Now);

        Assert.Equal(VerificationStatus.BadSignature, result.Status);
        Assert.Null(result.Fields);
    }

    [Fact]
    public void Only_the_canonical_spelling_of_the_signature_is_accepted()
    {
        var query = Parse(Signer.SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/", ImpressionId: "imp-1")));
        string signature = query.Signature!;
        // The last of 43 base64url characters carries 4 bits of the MAC and 2 spare bits: flipping a spare bit
        // decodes to the same bytes, but it is not the signature.
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char sameBytes = Alphabet[Alphabet.IndexOf(signature[^1], StringComparison.Ordinal) ^ 1];

        Assert.True(Signer.Verify(query, Now).IsValid);
        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(query with { Signature = signature[..^1] + sameBytes }, Now).Status);
        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(query with { Signature = signature + "=" }, Now).Status);
        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(query with { Signature = signature.Replace('-', '+').Replace('_', '/') + "x" }, Now).Status);
    }

    [Fact]
    public void Removing_an_optional_signed_parameter_invalidates_the_signature()
    {
        var query = Parse(Signer.SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/", "cmp-1")));

        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(query with { CampaignId = null }, Now).Status);
    }

    [Fact]
    public void The_previous_key_is_still_accepted_during_rotation_but_an_unknown_key_is_not()
    {
        var signedWithPrevious = Parse(new ClickUrlSigner(new SigningKeyRing(Previous)).SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/")));
        var other = new SigningKey("k9", new byte[32]);
        var signedWithOther = Parse(new ClickUrlSigner(new SigningKeyRing(other)).SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/")));

        Assert.True(Signer.Verify(signedWithPrevious, Now).IsValid);
        Assert.Equal(VerificationStatus.UnknownKey, Signer.Verify(signedWithOther, Now).Status);
        Assert.Equal(VerificationStatus.UnknownKey, new ClickUrlSigner(new SigningKeyRing(Current)).Verify(signedWithPrevious, Now).Status);
    }

    [Fact]
    public void A_signature_made_with_another_key_under_a_known_key_id_is_rejected()
    {
        var impostor = new SigningKey("k1", new byte[32]);
        var query = Parse(new ClickUrlSigner(new SigningKeyRing(impostor)).SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/")));

        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(query, Now).Status);
    }

    [Fact]
    public void An_expired_url_is_rejected_as_expired_only_when_its_signature_is_good()
    {
        var query = Parse(Signer.SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/", ExpiresAt: Now.AddSeconds(-1))));

        Assert.Equal(VerificationStatus.Expired, Signer.Verify(query, Now).Status);
        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(query with { Signature = "A" + query.Signature![1..] }, Now).Status);
        Assert.True(Signer.Verify(query, Now.AddSeconds(-2)).IsValid);
    }

    [Fact]
    public void Missing_signature_missing_fields_and_repeated_parameters_are_rejected_with_a_reason()
    {
        var query = Parse(Signer.SignQuery(new ClickUrlFields("ad-1", "adv-1", "https://example.com/")));

        Assert.Equal(VerificationStatus.NotSigned, Signer.Verify(query with { Signature = null }, Now).Status);
        Assert.Equal(VerificationStatus.NotSigned, Signer.Verify(query with { KeyId = null }, Now).Status);
        Assert.Equal(VerificationStatus.Malformed, Signer.Verify(query with { AdId = null }, Now).Status);
        Assert.Equal(VerificationStatus.Malformed, Signer.Verify(query with { Url = null }, Now).Status);
        Assert.Equal(VerificationStatus.Malformed, Signer.Verify(query with { DuplicateName = "u" }, Now).Status);
        Assert.Equal(VerificationStatus.Malformed, Signer.Verify(query with { Expires = "soon" }, Now).Status);
        Assert.Equal(VerificationStatus.BadSignature, Signer.Verify(query with { Signature = "not+base64url=" }, Now).Status);
    }

    [Theory]
    [InlineData("//evil.example")]
    [InlineData("https:evil.example")]
    [InlineData("https:/evil.example")]
    [InlineData(@"\\evil.example")]
    [InlineData(@"https:\\evil.example")]
    [InlineData(@"https://trusted.example\@evil.example")]
    [InlineData("https://trusted@evil.example")]
    [InlineData("https://trusted.example:443@evil.example/")]
    [InlineData("https://example.com/\r\nSet-Cookie: a=b")]
    [InlineData("https://example.com/%0d%0aX: y\n")]
    [InlineData("javascript:alert(1)")]
    [InlineData("JaVaScRiPt://example.com/%0aalert(1)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("ftp://example.com/")]
    [InlineData("/relative/path")]
    [InlineData("https://")]
    [InlineData("https:///evil.example")]
    [InlineData("https://exämple.com/")]
    [InlineData("https://example.com/ space")]
    [InlineData("")]
    public void Landing_urls_that_are_not_plain_absolute_http_urls_cannot_be_signed_or_verified(string landing)
    {
        Assert.NotNull(LandingUrls.Validate(landing));
        Assert.Throws<ArgumentException>(() => Signer.SignQuery(new ClickUrlFields("ad-1", "adv-1", landing)));

        // Even a correctly MACed URL with such a destination is refused at verification.
        string canonical = ClickUrlSigner.Canonical("k1", new ClickUrlFields("ad-1", "adv-1", landing), "");
        var mac = System.Security.Cryptography.HMACSHA256.HashData(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), System.Text.Encoding.UTF8.GetBytes(canonical));
        var forged = new ClickUrlParameters("ad-1", "adv-1", landing, null, null, null, "k1", Base64UrlTextEncoder.Encode(mac));
        var result = Signer.Verify(forged, Now);
        Assert.False(result.IsValid);
        Assert.Null(result.Fields);
    }

    [Fact]
    public void Landing_urls_longer_than_the_limit_are_rejected()
    {
        string url = "https://example.com/" + new string('a', LandingUrls.MaxLength);

        Assert.Contains("longer", LandingUrls.Validate(url), StringComparison.Ordinal);
        Assert.Null(LandingUrls.Validate(url[..LandingUrls.MaxLength]));
    }

    [Theory]
    [InlineData("https://example.com")]
    [InlineData("HTTPS://EXAMPLE.COM/A")]
    [InlineData("http://127.0.0.1:8080/x?y=%20z#frag")]
    [InlineData("https://xn--exmple-cua.com/")]
    public void Plain_absolute_http_urls_are_accepted(string landing) => Assert.Null(LandingUrls.Validate(landing));

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a/b")]
    [InlineData("a&b")]
    [InlineData("a\nb")]
    public void Ids_outside_the_unreserved_alphabet_are_rejected(string id)
    {
        Assert.False(ClickUrlFields.IsValidId(id));
        Assert.Throws<ArgumentException>(() => Signer.SignQuery(new ClickUrlFields(id, "adv-1", "https://example.com/")));
    }

    private static ClickUrlParameters Parse(string query) => ClickQueries.Parse(query);

    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    private static List<Vector> LoadVectors()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Signing", "click-url-vectors.json")));
        return [.. doc.RootElement.GetProperty("vectors").EnumerateArray().Select(e => e.Deserialize<Vector>(WebJson)!)];
    }

    public sealed record Vector(string Name, string KeyId, string KeyBase64, string AdId, string AdvertiserId, string? CampaignId, string? ImpressionId, long? Expires, string LandingUrl, string Canonical, string Signature, string Query,
        string? Publisher = null, string? Placement = null, string? Creative = null, string? SubId = null)
    {
        public ClickUrlFields Fields() => new(AdId, AdvertiserId, LandingUrl, CampaignId, ImpressionId, Expires is { } e ? DateTimeOffset.FromUnixTimeSeconds(e) : null,
            Publisher, Placement, Creative, SubId);
    }
}
