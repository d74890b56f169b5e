using System.Net;
using ClickFunctions.Clicks;

namespace ClickFunctions.Tests.Clicks;

public class ClickIdentityTests
{
    private static readonly FingerprintHasher Hasher = new(new byte[32]);
    private static readonly DateTimeOffset Noon = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_same_impression_of_the_same_ad_always_yields_the_same_click_id()
    {
        Assert.Equal(ClickId.FromImpression("adv", "ad", "imp-1"), ClickId.FromImpression("adv", "ad", "imp-1"));
        Assert.NotEqual(ClickId.FromImpression("adv", "ad", "imp-1"), ClickId.FromImpression("adv", "ad", "imp-2"));
        Assert.NotEqual(ClickId.FromImpression("adv", "ad", "imp-1"), ClickId.FromImpression("adv", "ad-2", "imp-1"));
    }

    [Fact]
    public void Without_an_impression_a_double_click_in_the_same_minute_yields_the_same_click_id()
    {
        var fp = Hasher.Compute(IPAddress.Parse("203.0.113.7"), "Mozilla/5.0", Noon);

        Assert.Equal(ClickId.FromFingerprint("ad", fp, Noon.AddSeconds(1)), ClickId.FromFingerprint("ad", fp, Noon.AddSeconds(59)));
        Assert.NotEqual(ClickId.FromFingerprint("ad", fp, Noon), ClickId.FromFingerprint("ad", fp, Noon.AddMinutes(1)));
        Assert.NotEqual(ClickId.FromFingerprint("ad", fp, Noon), ClickId.FromFingerprint("ad-2", fp, Noon));
    }

    [Fact]
    public void Click_ids_print_as_32_hex_digits_and_parse_back()
    {
        var id = ClickId.FromImpression("adv", "ad", "imp");
        string text = id.ToString();

        Assert.Matches("^[0-9a-f]{32}$", text);
        Assert.True(ClickId.TryParse(text, out var parsed));
        Assert.Equal(id, parsed);
        Assert.False(ClickId.TryParse("xyz", out _));
    }

    [Fact]
    public void Fingerprints_match_within_a_day_and_differ_across_days_users_and_secrets()
    {
        var ip = IPAddress.Parse("198.51.100.23");
        var a = Hasher.Compute(ip, "UA", Noon);

        Assert.Equal(a, Hasher.Compute(ip, "UA", Noon.AddHours(11)));
        Assert.NotEqual(a, Hasher.Compute(ip, "UA", Noon.AddHours(12)));
        Assert.NotEqual(a, Hasher.Compute(IPAddress.Parse("198.51.100.24"), "UA", Noon));
        Assert.NotEqual(a, Hasher.Compute(ip, "UA2", Noon));
        Assert.NotEqual(a, new FingerprintHasher(Enumerable.Repeat((byte)1, 32).ToArray()).Compute(ip, "UA", Noon));
    }

    [Theory]
    [InlineData("203.0.113.77", "203.0.113.0")]
    [InlineData("::ffff:203.0.113.77", "203.0.113.0")]
    [InlineData("2001:db8:1234:5678:9abc::1", "2001:db8:1234::")]
    [InlineData("127.0.0.1", "127.0.0.0")]
    public void Ip_addresses_are_truncated_to_their_network_part(string ip, string expected) =>
        Assert.Equal(expected, IpTruncation.Truncate(IPAddress.Parse(ip)));
}
