using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Hosting.Http;
using ClickFunctions.Queries;
using ClickFunctions.Signing;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClickFunctions.Tests.Aggregation;

/// <summary>
/// What one ad is, seen from outside the real process: the exact (advertiser, ad) pair (issue 12, finding 1), one
/// bucket key with the campaign from the click to the reconciler (issue 13, finding 2), and a store file of the old
/// schema refused with what to do.
/// </summary>
public sealed class StoreIdentityTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-store-identity-").FullName;
    private readonly TestKeys _keys = TestKeys.Create();

    private static readonly Dictionary<string, string> Keys = new()
    {
        ["acme"] = "acme-key-0123456789abcdef",
        ["globex"] = "globex-key-0123456789abcdef",
        ["adv-1"] = QueryApi.ApiKeys["adv-1"],
    };

    private static Dictionary<string, string> Environment => Keys.ToDictionary(k => $"Advertisers__{k.Key}__ApiKey", k => k.Value);

    private string ClickPath(string advertiser, string ad, string campaign, string impression) =>
        _keys.ClickPath(new ClickUrlFields(ad, advertiser, "https://shop.example/landing", campaign, impression));

    private static async Task<(HttpStatusCode Status, AdClicks? Clicks)> AdClicksAsync(HttpClient client, string advertiser, string ad, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, QueryApi.AdClicksPath(ad, Granularity.Minute, from, to));
        request.Headers.Add(ApiKeyAdvertiserIdentity.HeaderName, Keys[advertiser]);
        using var response = await client.SendAsync(request, ct);
        return (response.StatusCode, response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync(QueryJson.Default.AdClicks, ct) : null);
    }

    private static async Task WaitForClicksAsync(HttpClient client, string advertiser, string ad, DateTimeOffset from, DateTimeOffset to, long expected, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var (status, clicks) = await AdClicksAsync(client, advertiser, ad, from, to, ct);
            if (clicks?.Total.Clicks == expected)
            {
                return;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"{advertiser}/{ad}: {status}, {clicks?.Total.Clicks} clicks; expected {expected}");
            await Task.Delay(100, ct);
        }
    }

    [Fact]
    public async Task Two_advertisers_ads_whose_old_hash_keys_collide_each_see_only_their_own_clicks_through_the_query_api()
    {
        Assert.Equal(CollidingAds.LegacyAdKey("acme", CollidingAds.AcmeAd), CollidingAds.LegacyAdKey("globex", CollidingAds.GlobexAd)); // the collision is real under the old key
        var ct = TestContext.Current.CancellationToken;
        var from = TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow);
        await using var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, Environment, ct);
        using var client = host.CreateClient();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Found, await QueryApi.ClickAsync(client, ClickPath("acme", CollidingAds.AcmeAd, "cmp-a", "imp-" + i), ct));
        }
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.Found, await QueryApi.ClickAsync(client, ClickPath("globex", CollidingAds.GlobexAd, "cmp-g", "imp-" + i), ct));
        }
        var to = TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow).AddMinutes(2);

        await WaitForClicksAsync(client, "acme", CollidingAds.AcmeAd, from, to, 3, ct);
        await WaitForClicksAsync(client, "globex", CollidingAds.GlobexAd, from, to, 2, ct);

        Assert.Equal(HttpStatusCode.NotFound, (await AdClicksAsync(client, "acme", CollidingAds.GlobexAd, from, to, ct)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await AdClicksAsync(client, "globex", CollidingAds.AcmeAd, from, to, ct)).Status);
        using var acme = new HttpRequestMessage(HttpMethod.Get, $"/api/advertisers/acme/ads?from={QueryApi.Iso(from)}&to={QueryApi.Iso(to)}");
        acme.Headers.Add(ApiKeyAdvertiserIdentity.HeaderName, Keys["acme"]);
        using var listing = await client.SendAsync(acme, ct);
        var ads = await listing.Content.ReadFromJsonAsync(QueryJson.Default.AdvertiserAds, ct);
        Assert.Equal([new AdTotals(CollidingAds.AcmeAd, "cmp-a", 3, 0)], ads!.Ads);
    }

    [Fact]
    public async Task An_ad_signed_under_two_campaigns_reconciles_as_matched_with_the_cli_on_every_run()
    {
        var ct = TestContext.Current.CancellationToken;
        var from = TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow);
        await using (var host = await LocalHostProcess.StartAsync(_dataDirectory, _keys, Environment, ct))
        {
            using var client = host.CreateClient();
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal(HttpStatusCode.Found, await QueryApi.ClickAsync(client, ClickPath("adv-1", "ad-a", i % 2 == 0 ? "cmp-1" : "cmp-2", "imp-" + i), ct));
            }
            await WaitForClicksAsync(client, "adv-1", "ad-a", from, from.AddMinutes(2), 6, ct);
            await host.StopAsync();
        }
        var to = TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow).AddMinutes(1);
        var wait = to - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait + TimeSpan.FromMilliseconds(200), ct); // the window must have closed before it is reconciled
        }

        foreach (int run in new[] { 1, 2 })
        {
            var result = await ReconcileAsync(from, to, ct);
            Assert.True(result.ExitCode == 0, $"run {run}: {result.Output}");
            Assert.Contains(" Matched:", result.Output, StringComparison.Ordinal);
            Assert.Contains("0 corrected", result.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_store_file_of_the_old_hash_keyed_schema_is_refused_by_reconcile_and_the_host_with_how_to_rebuild_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var from = TimeBuckets.FloorToMinute(DateTimeOffset.UtcNow).AddMinutes(-10);
        using (var log = new LocalClickLog(new LocalLogOptions { Directory = Path.Combine(_dataDirectory, "log") }, TimeProvider.System, NullLoggerFactory.Instance))
        {
            await log.AppendAsync(new ClickEvent(ClickId.FromImpression("adv-1", "ad-a", "imp-1"), from.AddMinutes(1), "ad-a", "adv-1", "cmp-1", ClickReason.Valid, "", "203.0.113.0", default), ct);
        }
        string store = Path.Combine(_dataDirectory, "clicks.duckdb");
        LegacyStore.CreateVersion1(store);

        var reconcile = await ReconcileAsync(from, from.AddMinutes(5), ct);
        var host = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalHostProcess.StartAsync(_dataDirectory, _keys, Environment, ct));

        Assert.True(reconcile.ExitCode == 7, reconcile.Output);
        foreach (string output in new[] { reconcile.Output, host.Message })
        {
            Assert.Contains($"The click store {store} has schema version 1", output, StringComparison.Ordinal);
            Assert.Contains("rebuild it from the log with `reconcile --from", output, StringComparison.Ordinal);
        }

        // Doing what it says: move the store aside and reconcile the log's whole range rebuilds it.
        File.Move(store, store + ".v1");
        var rebuild = await ReconcileAsync(from, from.AddMinutes(5), ct);
        Assert.True(rebuild.ExitCode == 0, rebuild.Output);
        Assert.Contains("rebuilt an empty store", rebuild.Output, StringComparison.Ordinal);
    }

    private async Task<ToolResult> ReconcileAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        await DotnetTool.RunAsync(
            "ClickFunctions.Local.dll",
            ["reconcile", "--from", QueryApi.Iso(from), "--to", QueryApi.Iso(to), "--data-dir", _dataDirectory],
            ct,
            new Dictionary<string, string?> { ["Reconcile__AllowedLateness"] = "00:00:00" },
            _dataDirectory);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
