using System.Net;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using ClickFunctions.Signing;
using ClickFunctions.Tests.Aggregation;

namespace ClickFunctions.Tests.Clicks;

/// <summary>
/// Issue 12 finding 7: behind a reverse proxy every click came from the proxy's address, so distinct users without an
/// impression id merged as duplicates. The real host behind a real nginx (Debian's), clients on distinct loopback
/// addresses. ASP.NET Core's forwarded-headers middleware ("Configure ASP.NET Core to work with proxy servers and
/// load balancers"): only X-Forwarded-For from a known proxy or network is trusted, and by default none is.
/// </summary>
public sealed class ReverseProxyTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-proxy-").FullName;

    private static ClickUrlFields Fields(string ad) => new(ad, "adv-1", "https://shop.example/");

    private static async Task ClickAsync(HttpClient client, TestKeys keys, string ad, string? forwardedFor, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, keys.ClickPath(Fields(ad)));
        request.Headers.TryAddWithoutValidation("User-Agent", QueryApi.BrowserAgent);
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }
        using var response = await client.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
    }

    private static Dictionary<string, ClickEvent> LoggedByAd(string dataDirectory)
    {
        var events = new List<RawEvent>();
        string log = Path.Combine(dataDirectory, "log");
        foreach (int partition in LocalClickLog.PartitionsIn(log))
        {
            using var reader = LocalClickLog.OpenOfflineReader(log, partition, 0);
            while (reader.Read(events, 10_000) > 0)
            {
            }
        }
        return events.Select(e => ClickWireFormat.Decode(e.Body.Span)).GroupBy(c => c.AdId).ToDictionary(g => g.Key, g => g.First());
    }

    [Fact]
    public async Task Behind_a_trusted_nginx_distinct_clients_count_as_distinct_and_no_client_supplied_forwarded_for_is_believed()
    {
        var ct = TestContext.Current.CancellationToken;
        if (await Nginx.EnsureInstalledAsync(ct) is { } missing)
        {
            Assert.Skip(missing);
        }
        var keys = TestKeys.Create();
        var environment = new Dictionary<string, string>(QueryApi.Environment) { ["TrustedProxies__KnownProxies__0"] = "127.0.0.1" };
        await using (var host = await LocalHostProcess.StartAsync(_dataDirectory, keys, environment, ct))
        await using (var nginx = await Nginx.StartAsync(host.BaseAddress, ct))
        {
            using var alice = Nginx.ClientFrom("127.0.0.2", nginx.BaseAddress);
            using var bob = Nginx.ClientFrom("127.0.0.3", nginx.BaseAddress);
            using var mallory = Nginx.ClientFrom("127.0.0.4", nginx.BaseAddress);
            using var direct = Nginx.ClientFrom("127.0.0.5", host.BaseAddress);
            var from = Granularity.Day.Floor(DateTimeOffset.UtcNow);

            // Same ad, same browser, same minute, no impression id: only the client address tells them apart.
            await ClickAsync(alice, keys, "ad-shared", null, ct);
            await ClickAsync(bob, keys, "ad-shared", null, ct);
            await ClickAsync(alice, keys, "ad-alice", null, ct);
            await ClickAsync(bob, keys, "ad-bob", null, ct);
            // A client's own X-Forwarded-For: through nginx it is followed by the real peer, and only the last
            // (nginx's own entry) is read; straight to the host, the sender is no trusted proxy.
            await ClickAsync(mallory, keys, "ad-spoof-via-proxy", "198.51.100.7", ct);
            await ClickAsync(direct, keys, "ad-spoof-direct", "198.51.100.8", ct);

            // Both clicks counted (valid or duplicate) within a bounded wait; then they must both be valid.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            ClickTotals? shared = null;
            using var query = host.CreateClient();
            while ((shared?.Clicks ?? 0) + (shared?.InvalidClicks ?? 0) < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, ct);
                shared = (await QueryApi.TryAdClicksAsync(query, "adv-1", "ad-shared", Granularity.Day, from, from.AddDays(2), ct))?.Total;
            }
            Assert.Equal(new ClickTotals(2, 0), shared);
            await host.StopAsync();
        }

        var logged = LoggedByAd(_dataDirectory);
        Assert.NotEqual(logged["ad-alice"].Fingerprint, logged["ad-bob"].Fingerprint);
        Assert.Equal("127.0.0.0", logged["ad-spoof-via-proxy"].TruncatedIp);
        Assert.Equal("127.0.0.0", logged["ad-spoof-direct"].TruncatedIp);
    }

    [Fact]
    public async Task With_no_proxy_configured_a_client_supplied_forwarded_for_is_ignored()
    {
        var ct = TestContext.Current.CancellationToken;
        var keys = TestKeys.Create();
        await using (var host = await LocalHostProcess.StartAsync(_dataDirectory, keys, cancellationToken: ct))
        {
            using var client = Nginx.ClientFrom("127.0.0.6", host.BaseAddress);
            await ClickAsync(client, keys, "ad-1", "198.51.100.1", ct);
            await ClickAsync(client, keys, "ad-2", "203.0.113.2", ct);
            await host.StopAsync();
        }

        var logged = LoggedByAd(_dataDirectory);
        Assert.Equal("127.0.0.0", logged["ad-1"].TruncatedIp);
        Assert.Equal("127.0.0.0", logged["ad-2"].TruncatedIp);
        Assert.Equal(logged["ad-1"].Fingerprint, logged["ad-2"].Fingerprint);
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
