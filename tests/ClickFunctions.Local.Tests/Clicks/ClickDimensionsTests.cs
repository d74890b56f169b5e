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

    private static BrowserClicks.BrowserClick[] Cases => BrowserClicks.Cases;

    [Fact]
    public async Task Clicks_from_known_browsers_and_addresses_carry_the_expected_dimensions_in_the_log()
    {
        var ct = TestContext.Current.CancellationToken;
        var keys = TestKeys.Create();
        var environment = new Dictionary<string, string>(QueryApi.Environment)
        {
            ["TrustedProxies__KnownProxies__0"] = "127.0.0.1",
            ["Geo__CountryDatabase"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "geo", "GeoLite2-Country-Test.mmdb"),
            ["InvalidTraffic__DataCentreRanges__0"] = BrowserClicks.DataCentreRange,
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
                foreach (var (name, value) in BrowserClicks.Hints(c))
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
                using var response = await client.SendAsync(request, ct);
                Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            }

            // The same clicks through the consumer and the query API: each ad's breakdown by country, device, os and
            // browser has its one click under the expected value (valid or invalid), and the advertiser's breakdown
            // (its own day rollup for whole days, decision 103) sums them.
            var now = DateTimeOffset.UtcNow;
            var from = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(-1);
            string range = $"from={QueryApi.Iso(from)}&to={QueryApi.Iso(from.AddDays(3))}";
            foreach (var (by, value) in new (string, Func<BrowserClicks.BrowserClick, string>)[]
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
