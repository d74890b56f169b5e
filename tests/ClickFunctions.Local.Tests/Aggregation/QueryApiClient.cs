using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using ClickFunctions.Hosting.Http;
using ClickFunctions.Queries;

namespace ClickFunctions.Tests.Aggregation;

/// <summary>Advertiser keys the aggregation tests configure on the host, and typed calls to its query API.</summary>
public static class QueryApi
{
    public static readonly IReadOnlyDictionary<string, string> ApiKeys = new Dictionary<string, string>
    {
        ["adv-1"] = "adv-1-key-0123456789abcdef",
        ["adv-2"] = "adv-2-key-0123456789abcdef",
    };

    /// <summary>The keys, and rate limits no polling test reaches (the defaults are tested in ApiConventionsTests).</summary>
    public static IReadOnlyDictionary<string, string> Environment =>
        new Dictionary<string, string>(ApiKeys.ToDictionary(k => $"Advertisers__{k.Key}__ApiKey", k => k.Value))
        {
            ["RateLimits__PerKeyPerSecond"] = "100000",
            ["RateLimits__PerKeyBurst"] = "100000",
        };

    /// <summary>The keys alone: the host runs with its default rate limits.</summary>
    public static IReadOnlyDictionary<string, string> KeysOnly =>
        ApiKeys.ToDictionary(k => $"Advertisers__{k.Key}__ApiKey", k => k.Value);

    public const string BrowserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
    public const string BotAgent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static HttpRequestMessage Get(string path, string? advertiser)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (advertiser is not null)
        {
            request.Headers.Add(ApiKeyAdvertiserIdentity.HeaderName, ApiKeys[advertiser]);
        }
        return request;
    }

    public static string AdClicksPath(string ad, Granularity granularity, DateTimeOffset from, DateTimeOffset to) =>
        $"/api/ads/{ad}/clicks?from={Iso(from)}&to={Iso(to)}&granularity={granularity.Code()}";

    public static async Task<AdClicks> AdClicksAsync(HttpClient client, string advertiser, string ad, Granularity granularity, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        using var response = await client.SendAsync(Get(AdClicksPath(ad, granularity, from, to), advertiser), ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(QueryJson.Default.AdClicks, ct))!;
    }

    /// <summary>Like <see cref="AdClicksAsync"/>, but an ad that has not been counted yet (404) gives null.</summary>
    public static async Task<AdClicks?> TryAdClicksAsync(HttpClient client, string advertiser, string ad, Granularity granularity, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        using var response = await client.SendAsync(Get(AdClicksPath(ad, granularity, from, to), advertiser), ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(QueryJson.Default.AdClicks, ct))!;
    }

    public static async Task<AdvertiserAds> ListAsync(HttpClient client, string advertiser, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        using var response = await client.SendAsync(Get($"/api/advertisers/{advertiser}/ads?from={Iso(from)}&to={Iso(to)}", advertiser), ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(QueryJson.Default.AdvertiserAds, ct))!;
    }

    /// <summary>Sends a click like a browser (or a bot) would; returns the status.</summary>
    public static async Task<HttpStatusCode> ClickAsync(HttpClient client, string path, CancellationToken ct, string agent = BrowserAgent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("User-Agent", agent);
        using var response = await client.SendAsync(request, ct);
        return response.StatusCode;
    }
}
