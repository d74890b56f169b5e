using System.Globalization;
using System.Net;
using System.Text.Json;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;
using ClickFunctions.Tests.Aggregation;

namespace ClickFunctions.Tests.Operations;

/// <summary>
/// The real host on a store whose indexes outgrow a fixed <c>ClickStore:MemoryLimit</c> (DuckDB keeps the index
/// nodes it has read resident; docs/decisions/094): reading every ad answers right until the limit is full, then a
/// 503 whose problem names the setting, never a 500 or a wrong count, and the host stays up. Under the default
/// (<c>auto</c>) the same reads all answer.
/// </summary>
public sealed class StoreMemoryHttpTests : IDisposable
{
    private const int Ads = 2_000, HoursPerAd = 1_000, QueriedHours = 24;
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-store-memory-http-").FullName;
    // On a whole day, well inside the hour rollup's retention.
    private readonly DateTimeOffset _start = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero).AddDays(-60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public StoreMemoryHttpTests() =>
        ScatteredStore.Seed(Path.Combine(_directory, ClickStoreOptions.FileName), Ads, HoursPerAd, _start, _ => "adv-1");

    /// <summary>Reads every ad once over HTTP; returns the status codes seen and the first non-200 body.</summary>
    private async Task<(int Right, HttpStatusCode? Failure, string Body)> ReadAllAdsAsync(HttpClient client)
    {
        int right = 0;
        foreach (int ad in ScatteredStore.ReadOrder(Ads))
        {
            string path = QueryApi.AdClicksPath("ad-" + ad.ToString(CultureInfo.InvariantCulture), Granularity.Hour, _start, _start.AddHours(QueriedHours));
            using var response = await client.SendAsync(QueryApi.Get(path, "adv-1"), Ct);
            string body = await response.Content.ReadAsStringAsync(Ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (right, response.StatusCode, body);
            }
            using var json = JsonDocument.Parse(body);
            Assert.Equal(QueriedHours, json.RootElement.GetProperty("total").GetProperty("clicks").GetInt64());
            right++;
        }
        return (right, null, "");
    }

    [Fact]
    public async Task A_fixed_limit_the_indexes_outgrow_answers_503_naming_the_setting_and_the_host_stays_up()
    {
        var environment = new Dictionary<string, string>(QueryApi.Environment) { ["ClickStore__MemoryLimit"] = "16MB" };
        await using var host = await LocalHostProcess.StartAsync(_directory, environment: environment, cancellationToken: Ct);
        using var client = host.CreateClient();

        var (right, failure, body) = await ReadAllAdsAsync(client);

        Assert.True(failure == HttpStatusCode.ServiceUnavailable, $"after {right} ads: {failure} {body}");
        Assert.True(right > 0, "the first reads fit in the limit");
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("ClickStore:MemoryLimit", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.False(host.HasExited);
        Assert.Contains("ran out of memory", host.Output, StringComparison.Ordinal);
        Assert.Contains("memory limit 16MB (ClickStore:MemoryLimit = 16MB)", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_the_automatic_limit_every_ad_answers()
    {
        await using var host = await LocalHostProcess.StartAsync(_directory, environment: QueryApi.Environment, cancellationToken: Ct);
        using var client = host.CreateClient();

        var (right, failure, body) = await ReadAllAdsAsync(client);

        Assert.True(failure is null, $"after {right} ads: {failure} {body}");
        Assert.Equal(Ads, right);
        // The start-up line names the limit the store sized for itself.
        Assert.Matches(@"memory limit \d+MiB \(ClickStore:MemoryLimit = auto\)", host.Output);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
