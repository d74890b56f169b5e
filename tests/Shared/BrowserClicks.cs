using ClickFunctions.Clicks;

namespace ClickFunctions.Tests;

/// <summary>
/// Issue 14's acceptance clicks, shared by both hosts' tests: real user agents and client hints of an iPhone, an iPad,
/// an Android phone, Windows Chrome and Edge, Linux Firefox and a crawler, plus a data-centre address; each with a
/// client address from MaxMind's GeoLite2 test database (tests/ClickFunctions.Local.Tests/Fixtures/geo) and what the
/// click must carry.
/// </summary>
public static class BrowserClicks
{
    public sealed record BrowserClick(string Ad, string Ip, string Agent, string? Mobile, string? Platform, string? Brands, string Country, string Device, string Os, string Browser, ClickReason Reason);

    private const string ChromeBrands = "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"";
    private const string EdgeBrands = "\"Microsoft Edge\";v=\"124\", \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"";

    /// <summary>The range <see cref="DataCentreRange"/> holds the data-centre case's address.</summary>
    public const string DataCentreRange = "198.51.100.0/24";

    public static readonly BrowserClick[] Cases =
    [
        new("iphone", "81.2.69.142", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", null, null, null, "GB", "mobile", "ios", "safari", ClickReason.Valid),
        new("ipad", "89.160.20.115", "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", null, null, null, "SE", "tablet", "ios", "safari", ClickReason.Valid),
        new("android", "216.160.83.57", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", "?1", "\"Android\"", ChromeBrands, "US", "mobile", "android", "chrome", ClickReason.Valid),
        new("win-chrome", "2001:218::1", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "?0", "\"Windows\"", ChromeBrands, "JP", "desktop", "windows", "chrome", ClickReason.Valid),
        new("win-edge", "67.43.156.9", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "?0", "\"Windows\"", EdgeBrands, "BT", "desktop", "windows", "edge", ClickReason.Valid),
        new("linux-firefox", "192.0.2.1", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", null, null, null, "unknown", "desktop", "linux", "firefox", ClickReason.Valid),
        new("crawler", "81.2.69.143", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", null, null, null, "GB", "other", "other", "other", ClickReason.BotUserAgent),
        new("datacentre", "198.51.100.7", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", null, null, null, "unknown", "desktop", "linux", "firefox", ClickReason.DataCentre),
    ];

    /// <summary>The client-hint headers a case sends (those it has).</summary>
    public static IEnumerable<(string Name, string Value)> Hints(BrowserClick c)
    {
        foreach (var (name, value) in new[] { ("Sec-CH-UA-Mobile", c.Mobile), ("Sec-CH-UA-Platform", c.Platform), ("Sec-CH-UA", c.Brands) })
        {
            if (value is not null)
            {
                yield return (name, value);
            }
        }
    }
}
