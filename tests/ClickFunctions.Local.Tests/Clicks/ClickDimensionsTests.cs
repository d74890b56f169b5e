using System.Net;
using System.Net.Http.Json;
using ClickFunctions.Hosting.Http;
using ClickFunctions.Queries;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Ports;
using ClickFunctions.Signing;
using ClickFunctions.Tests.Aggregation;

namespace ClickFunctions.Tests.Clicks;

/// <summary>
/// Issue 14 acceptance over the real local host: each click gets country (MaxMind test database configured through
/// Geo:CountryDatabase), device, os and browser (user agent + client hints), the signed pub/plc/crv/sub fields and
/// the data-centre reason, all before the IP is truncated; they reach the log in wire format version 2, and each ad's
/// and the advertiser's breakdowns by country, device, os and browser through the query API.
/// </summary>
public sealed class ClickDimensionsTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-dims-").FullName;

    private const string ChromeBrands = "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"";
    private const string EdgeBrands = "\"Microsoft Edge\";v=\"124\", \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"";

    // ad, client address (X-Forwarded-For from the trusted loopback proxy), user agent, Sec-CH-UA-Mobile, -Platform, Sec-CH-UA,
    // then expected country, device, os, browser, reason.
    private static readonly (string Ad, string Ip, string Agent, string? Mobile, string? Platform, string? Brands, string Country, string Device, string Os, string Browser, ClickReason Reason)[] Cases =
    [
        ("iphone", "81.2.69.142", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", null, null, null, "GB", "mobile", "ios", "safari", ClickReason.Valid),
        ("ipad", "89.160.20.115", "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", null, null, null, "SE", "tablet", "ios", "safari", ClickReason.Valid),
        ("android", "216.160.83.57", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", "?1", "\"Android\"", ChromeBrands, "US", "mobile", "android", "chrome", ClickReason.Valid),
        ("win-chrome", "2001:218::1", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "?0", "\"Windows\"", ChromeBrands, "JP", "desktop", "windows", "chrome", ClickReason.Valid),
        ("win-edge", "67.43.156.9", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "?0", "\"Windows\"", EdgeBrands, "BT", "desktop", "windows", "edge", ClickReason.Valid),
        ("linux-firefox", "192.0.2.1", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", null, null, null, "unknown", "desktop", "linux", "firefox", ClickReason.Valid),
        ("crawler", "81.2.69.143", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", null, null, null, "GB", "other", "other", "other", ClickReason.BotUserAgent),
        ("datacentre", "198.51.100.7", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", null, null, null, "unknown", "desktop", "linux", "firefox", ClickReason.DataCentre),
    ];

    [Fact]
    public async Task Clicks_from_known_browsers_and_addresses_carry_the_expected_dimensions_in_the_log()
    {
        var ct = TestContext.Current.CancellationToken;
        var keys = TestKeys.Create();
        var environment = new Dictionary<string, string>(QueryApi.Environment)
        {
            ["TrustedProxies__KnownProxies__0"] = "127.0.0.1",
            ["Geo__CountryDatabase"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "geo", "GeoLite2-Country-Test.mmdb"),
            ["InvalidTraffic__DataCentreRanges__0"] = "198.51.100.0/24",
        };
        await using (var host = await LocalHostProcess.StartAsync(_dataDirectory, keys, environment, ct))
        {
            using var client = host.CreateClient();
            foreach (var c in Cases)
            {
                var fields = new ClickUrlFields(c.Ad, "adv-1", "https://shop.example/", Publisher: "news.example", Placement: "top", Creative: "crv-" + c.Ad, SubId: "s1");
                using var request = new HttpRequestMessage(HttpMethod.Get, keys.ClickPath(fields));
                request.Headers.TryAddWithoutValidation("User-Agent", c.Agent);
                request.Headers.TryAddWithoutValidation("X-Forwarded-For", c.Ip);
                foreach (var (name, value) in new[] { ("Sec-CH-UA-Mobile", c.Mobile), ("Sec-CH-UA-Platform", c.Platform), ("Sec-CH-UA", c.Brands) })
                {
                    if (value is not null)
                    {
                        request.Headers.TryAddWithoutValidation(name, value);
                    }
                }
                using var response = await client.SendAsync(request, ct);
                Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            }

            // The same clicks through the consumer and the query API: each ad's breakdown by country, device, os and
            // browser has its one click under the expected value (valid or invalid), and the advertiser's breakdown
            // (its own day rollup for whole days, decision 099) sums them.
            var now = DateTimeOffset.UtcNow;
            var from = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(-1);
            string range = $"from={QueryApi.Iso(from)}&to={QueryApi.Iso(from.AddDays(3))}";
            foreach (var (by, value) in new (string, Func<(string Ad, string Ip, string Agent, string? Mobile, string? Platform, string? Brands, string Country, string Device, string Os, string Browser, ClickReason Reason), string>)[]
                { ("country", c => c.Country), ("device", c => c.Device), ("os", c => c.Os), ("browser", c => c.Browser) })
            {
                foreach (var c in Cases)
                {
                    bool valid = c.Reason == ClickReason.Valid;
                    var rows = await BreakdownWhenCountedAsync(client, $"/api/ads/{c.Ad}/breakdown?by={by}&{range}", 1, ct);
                    Assert.Equal([new BreakdownRow(value(c), valid ? 1 : 0, valid ? 0 : 1)], rows);
                }
                var expected = Cases.GroupBy(value).Select(g => new BreakdownRow(g.Key, g.Count(c => c.Reason == ClickReason.Valid), g.Count(c => c.Reason != ClickReason.Valid))).ToList();
                expected.Sort(Breakdown.Order);
                Assert.Equal(expected, await BreakdownWhenCountedAsync(client, $"/api/advertisers/adv-1/breakdown?by={by}&{range}", Cases.Length, ct));
            }
        }

        var logged = Logged();
        foreach (var c in Cases)
        {
            var (click, version) = logged[c.Ad];
            Assert.Equal(ClickWireFormat.Version2, version);
            Assert.Equal((c.Country, c.Device, c.Os, c.Browser, c.Reason), (click.Dimensions.Country, click.Dimensions.Device, click.Dimensions.Os, click.Dimensions.Browser, click.Reason));
            Assert.Equal(("news.example", "top", "crv-" + c.Ad, "s1"), (click.Dimensions.Publisher, click.Dimensions.Placement, click.Dimensions.Creative, click.Dimensions.SubId));
            Assert.Equal("direct", click.Referrer);
            Assert.DoesNotContain(c.Ip, click.TruncatedIp, StringComparison.Ordinal); // only the truncated address is kept
        }
    }

    /// <summary>The breakdown's rows once they hold <paramref name="clicks"/> clicks in all (the consumer counts within a second or so; bounded at 30 s).</summary>
    private static async Task<List<BreakdownRow>> BreakdownWhenCountedAsync(HttpClient client, string path, int clicks, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await client.SendAsync(QueryApi.Get(path, "adv-1"), ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var rows = (await response.Content.ReadFromJsonAsync(QueryJson.Default.Breakdown, ct))!.Rows.ToList();
                if (rows.Sum(r => r.Clicks + r.InvalidClicks) >= clicks || DateTime.UtcNow > deadline)
                {
                    return rows;
                }
            }
            else
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // an ad not counted yet
                Assert.True(DateTime.UtcNow < deadline, $"{path} still 404 after 30 s");
            }
            await Task.Delay(100, ct);
        }
    }

    private Dictionary<string, (ClickEvent Click, byte Version)> Logged()
    {
        var events = new List<RawEvent>();
        string log = Path.Combine(_dataDirectory, "log");
        foreach (int partition in LocalClickLog.PartitionsIn(log))
        {
            using var reader = LocalClickLog.OpenOfflineReader(log, partition, 0);
            while (reader.Read(events, 10_000) > 0)
            {
            }
        }
        return events.ToDictionary(e => ClickWireFormat.Decode(e.Body.Span).AdId, e => (ClickWireFormat.Decode(e.Body.Span), e.Body.Span[0]));
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
