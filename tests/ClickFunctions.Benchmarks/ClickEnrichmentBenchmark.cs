using System.Net;
using BenchmarkDotNet.Attributes;
using ClickFunctions.Clicks;
using ClickFunctions.Hosting.Geo;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// Issue 14: classification (crawler list, data-centre ranges), geo lookup and user-agent parsing together, per click
/// (target 3 µs). Cycles through a mix of browser and crawler user agents and addresses. The geo database is the
/// MaxMind test database (tests/ClickFunctions.Local.Tests/Fixtures/geo), whose tree is far smaller than a real one.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
#pragma warning disable CA1063 // BenchmarkDotNet needs an unsealed class; nothing derives from it
public class ClickEnrichmentBenchmark : IDisposable
{
    private static readonly string[] Agents =
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.10; rv:41.0) Gecko/20100101 Firefox/55.0 BrandVerity/1.0 (http://www.brandverity.com/why-is-brandverity-visiting-me)",
    ];

    private static readonly IPAddress[] Addresses = [.. new[] { "81.2.69.142", "89.160.20.115", "216.160.83.57", "2001:218::1", "192.0.2.1", "198.51.100.7" }.Select(IPAddress.Parse)];

    private ClickRequest[] _requests = [];
    private ClickRequest[] _distinct = [];
    private MaxMindCountryLookup _geo = null!;
    private MaxMind.GeoIP2.DatabaseReader _oldGeo = null!;
    private DataCentreRanges _dataCentres = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        string db = Path.Combine(FindRepositoryRoot(), "tests", "ClickFunctions.Local.Tests", "Fixtures", "geo", "GeoLite2-Country-Test.mmdb");
        _geo = new MaxMindCountryLookup(db);
        _oldGeo = new MaxMind.GeoIP2.DatabaseReader(db, MaxMind.Db.FileAccessMode.Memory);
        // 20,000 user agents none alike (browser versions varied), more than the verdict cache holds: every click misses it.
        _distinct = [.. Enumerable.Range(0, 20_000).Select(i => new ClickRequest(
            "GET", Agents[i % Agents.Length].Replace("124.0.0.0", $"124.0.{i}.0", StringComparison.Ordinal).Replace("rv:125.0", $"rv:125.{i}", StringComparison.Ordinal)
                .Replace("Firefox/55.0", $"Firefox/55.{i}", StringComparison.Ordinal).Replace("17_4", $"17_{i}", StringComparison.Ordinal).Replace("Googlebot/2.1", $"Googlebot/2.{i}", StringComparison.Ordinal),
            null, Addresses[i / Agents.Length % Addresses.Length], null))];
        _dataCentres = new DataCentreRanges(["198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"]);
        _requests = [.. Enumerable.Range(0, 36).Select(i => new ClickRequest("GET", Agents[i % Agents.Length], null, Addresses[i / Agents.Length % Addresses.Length], null))];
        ClickClassifier.Classify(_requests[0]); // compile the patterns outside the measurement
    }

    public void Dispose()
    {
        _geo?.Dispose();
        _oldGeo?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// As it was before decision 091 (git 913840b): both crawler automata run for every click, and the country comes
    /// from GeoIP2's full <c>CountryResponse</c> model. Same requests as <see cref="OneClick"/>.
    /// </summary>
    [Benchmark(Baseline = true, Description = "before: classify + geo + user agent, one click")]
    public (ClickReason, string?, string, string, string) Before()
    {
        var request = _requests[_next++ % _requests.Length];
        var reason = OldClassify(request);
        string? country = _oldGeo.TryCountry(request.RemoteIp!, out var response) && response is not null ? response.Country.IsoCode ?? response.RegisteredCountry.IsoCode : null;
        var (device, os, browser) = DeviceClassifier.Classify(new BrowserSignals(request.UserAgent), reason is ClickReason.BotUserAgent or ClickReason.LinkPreview);
        return (reason, country, device, os, browser);
    }

    [Benchmark(Description = "classify + geo + user agent, one click")]
    public (ClickReason, string?, string, string, string) OneClick() => Enrich(_requests[_next++ % _requests.Length]);

    /// <summary>The worst case for the verdict cache: a user agent it has not seen (a flood of made-up agents).</summary>
    [Benchmark(Description = "same, every user agent new")]
    public (ClickReason, string?, string, string, string) NewUserAgent() => Enrich(_distinct[_next++ % _distinct.Length]);

    private (ClickReason, string?, string, string, string) Enrich(ClickRequest request)
    {
        var reason = ClickClassifier.Classify(request, _dataCentres);
        string? country = _geo.CountryOf(request.RemoteIp!);
        var (device, os, browser) = DeviceClassifier.Classify(new BrowserSignals(request.UserAgent), reason is ClickReason.BotUserAgent or ClickReason.LinkPreview);
        return (reason, country, device, os, browser);
    }

    private ClickReason OldClassify(ClickRequest request)
    {
        var agent = request.UserAgent.AsSpan();
        if (CrawlerPatterns.IsLinkPreview(agent))
        {
            return ClickReason.LinkPreview;
        }
        if (CrawlerPatterns.IsBot(agent))
        {
            return ClickReason.BotUserAgent;
        }
        return _dataCentres.Contains(request.RemoteIp) ? ClickReason.DataCentre : ClickReason.Valid;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClickFunctions.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
#pragma warning restore CA1063
