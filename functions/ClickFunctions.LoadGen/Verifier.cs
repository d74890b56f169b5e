using System.Globalization;
using System.Net;
using System.Text.Json;

namespace ClickFunctions.LoadGen;

/// <summary>
/// After a run: asks the query API for each advertiser's ads and checks that the valid clicks it counts equal the
/// distinct valid clicks this run got a 302 for (a duplicate of an impression counts once; bots and refused URLs
/// count zero). Waits for the aggregation to catch up, up to a timeout.
/// </summary>
public sealed class Verifier(Uri target, IReadOnlyDictionary<string, string> apiKeys, TextWriter output)
{
    public static Dictionary<string, long> Expected(IEnumerable<Outcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return outcomes
            .Where(o => o.Status == (int)HttpStatusCode.Found && o.Click.Kind is ClickKind.Valid or ClickKind.Duplicate)
            .Select(o => o.Click with { Kind = ClickKind.Valid })
            .Distinct()
            .GroupBy(c => c.AdId)
            .ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
    }

    public async Task<bool> VerifyAsync(RunResult result, DateTimeOffset runStart, DateTimeOffset runEnd, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        var expected = Expected(result.Outcomes);
        var advertisers = result.Outcomes.Select(o => o.Click.AdvertiserId).Distinct().Order(StringComparer.Ordinal).ToList();
        var missingKeys = advertisers.Where(a => !apiKeys.ContainsKey(a)).ToList();
        if (missingKeys.Count > 0)
        {
            await output.WriteLineAsync($"verify: no API key for {string.Join(", ", missingKeys)} (pass --api-key ADVERTISER=KEY)").ConfigureAwait(false);
            return false;
        }
        var from = new DateTimeOffset(runStart.UtcDateTime.Date.AddHours(runStart.UtcDateTime.Hour), TimeSpan.Zero);
        var to = new DateTimeOffset(runEnd.UtcDateTime.Date.AddHours(runEnd.UtcDateTime.Hour + 1), TimeSpan.Zero);
        using var client = new HttpClient { BaseAddress = target, Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTimeOffset.UtcNow + timeout;
        Dictionary<string, long> counted = [];
        while (true)
        {
            counted = [];
            foreach (var advertiser in advertisers)
            {
                foreach (var (ad, clicks) in await QueryAsync(client, advertiser, from, to, cancellationToken).ConfigureAwait(false))
                {
                    counted[ad] = clicks;
                }
            }
            if (Matches(expected, counted) || DateTimeOffset.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
        }
        long expectedTotal = expected.Values.Sum();
        long countedTotal = counted.Values.Sum();
        bool ok = Matches(expected, counted);
        await output.WriteLineAsync(FormattableString.Invariant(
            $"verify: {(ok ? "OK" : "MISMATCH")}: distinct valid clicks redirected {expectedTotal:N0}, counted valid {countedTotal:N0} over {expected.Count:N0} ads")).ConfigureAwait(false);
        if (!ok)
        {
            foreach (var ad in expected.Keys.Union(counted.Keys).Where(a => expected.GetValueOrDefault(a) != counted.GetValueOrDefault(a)).Take(10))
            {
                await output.WriteLineAsync($"  {ad}: expected {expected.GetValueOrDefault(ad)}, counted {counted.GetValueOrDefault(ad)}").ConfigureAwait(false);
            }
        }
        return ok;
    }

    private static bool Matches(Dictionary<string, long> expected, Dictionary<string, long> counted) =>
        expected.Count == counted.Count(c => c.Value != 0) && expected.All(e => counted.GetValueOrDefault(e.Key) == e.Value);

    private async Task<List<(string Ad, long Clicks)>> QueryAsync(HttpClient client, string advertiser, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        string url = string.Create(CultureInfo.InvariantCulture,
            $"/api/advertisers/{Uri.EscapeDataString(advertiser)}/ads?from={from.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}&to={to.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        // An API key (local host) or, written "Bearer <token>", an Entra token for the Function App's Easy Auth.
        string credential = apiKeys[advertiser];
        if (credential.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            request.Headers.TryAddWithoutValidation("Authorization", credential);
        }
        else
        {
            request.Headers.Add("X-Api-Key", credential);
        }
        using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}: {body}");
        }
        using var json = JsonDocument.Parse(body);
        var ads = new List<(string, long)>();
        foreach (var item in FindAds(json.RootElement))
        {
            ads.Add((item.GetProperty("adId").GetString()!, item.GetProperty("clicks").GetInt64()));
        }
        return ads;
    }

    private static IEnumerable<JsonElement> FindAds(JsonElement root)
    {
        // The listing is {"ads":[{"adId","clicks","invalidClicks"}...]} (docs/query-api.md).
        var array = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("ads");
        return array.EnumerateArray();
    }
}
