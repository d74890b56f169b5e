using System.Net;
using System.Text.RegularExpressions;
using ClickFunctions.Queries;
using ClickFunctions.Signing;

namespace ClickFunctions.Tests.Aggregation;

/// <summary>
/// Issue 12 finding 8: <c>clicks_recorded_total{reason="valid"}</c> counted clicks that aggregation then counted as
/// duplicates, so /metrics and the query API disagreed. Now the capture counts durable clicks (no reason), and
/// <c>clicks_counted_total{reason}</c> is what aggregation committed: its "valid" is the query API's clicks.
/// </summary>
public sealed class CountedMetricsTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-counted-").FullName;

    [Fact]
    public async Task The_metrics_count_a_double_click_as_the_query_api_does()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await LocalHostProcess.StartAsync(_dataDirectory, environment: QueryApi.Environment, cancellationToken: ct);
        using var client = host.CreateClient();
        string path = host.Keys.ClickPath(new ClickUrlFields("ad-metrics", "adv-1", "https://shop.example/", null, "imp-once"));
        for (int i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("User-Agent", QueryApi.BrowserAgent);
            using var response = await client.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        }

        var from = Granularity.Day.Floor(DateTimeOffset.UtcNow);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        ClickTotals? totals = null;
        while ((totals?.Clicks ?? 0) + (totals?.InvalidClicks ?? 0) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
            totals = (await QueryApi.TryAdClicksAsync(client, "adv-1", "ad-metrics", Granularity.Day, from, from.AddDays(2), ct))?.Total;
        }
        Assert.Equal(new ClickTotals(1, 1), totals);

        string metrics = "";
        while (!metrics.Contains("clicks_counted_total{", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, ct);
            metrics = await client.GetStringAsync("/metrics", ct);
        }
        Assert.Equal(totals!.Clicks, Sample(metrics, "clicks_counted_total", "valid"));
        Assert.Equal(1, Sample(metrics, "clicks_counted_total", "duplicate"));
        Assert.Matches(@"(?m)^clicks_recorded_total(\{[^}]*\})? 2( |$)", metrics);
        Assert.DoesNotMatch(@"clicks_recorded_total\{[^}]*reason=", metrics);
    }

    private static long Sample(string metrics, string name, string reason)
    {
        var match = Regex.Match(metrics, $@"(?m)^{name}\{{[^}}]*reason=""{reason}""[^}}]*\}} (\d+)");
        Assert.True(match.Success, $"no {name}{{reason=\"{reason}\"}} in\n{metrics}");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
