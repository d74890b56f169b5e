using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ClickFunctions.Queries;
using ClickFunctions.Signing;

namespace ClickFunctions.Tests.Aggregation;

/// <summary>The query API's conventions on the real local host process with its default limits (docs/query-api.md).</summary>
public sealed class ApiConventionsTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-conv-").FullName;
    private LocalHostProcess _host = null!;
    private HttpClient _client = null!;
    private static readonly DateTimeOffset Today = Granularity.Day.Floor(DateTimeOffset.UtcNow);
    private static readonly string Range = $"from={QueryApi.Iso(Today)}&to={QueryApi.Iso(Today.AddDays(1))}";

    public async ValueTask InitializeAsync()
    {
        _host = await LocalHostProcess.StartAsync(_dataDirectory, environment: QueryApi.KeysOnly, cancellationToken: TestContext.Current.CancellationToken);
        _client = _host.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private static HttpRequestMessage Bearer(string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    [Fact]
    public async Task A_bearer_key_works_like_X_Api_Key_and_a_wrong_one_is_401()
    {
        var ct = TestContext.Current.CancellationToken;
        using var ok = await _client.SendAsync(Bearer($"/api/advertisers/adv-1/ads?{Range}", QueryApi.ApiKeys["adv-1"]), ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var wrong = await _client.SendAsync(Bearer($"/api/advertisers/adv-1/ads?{Range}", "not-a-key-0123456789"), ct);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task An_unknown_query_parameter_is_a_400_problem_naming_it()
    {
        var ct = TestContext.Current.CancellationToken;
        using var response = await _client.SendAsync(QueryApi.Get($"/api/ads/ad-1/clicks?{Range}&granularity=hour&limt=3", "adv-1"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        Assert.Contains("limt", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(["limt"], body.RootElement.GetProperty("unknownParameters").EnumerateArray().Select(e => e.GetString()));
        // The known ones (from the handler's [AsParameters] type) pass.
        using var known = await _client.SendAsync(QueryApi.Get($"/api/advertisers/adv-1/ads?{Range}&limit=3", "adv-1"), ct);
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
    }

    [Fact]
    public async Task A_burst_of_500_on_one_key_gets_429s_with_Retry_After_and_another_key_is_unaffected()
    {
        var ct = TestContext.Current.CancellationToken;
        var responses = await Task.WhenAll(Enumerable.Range(0, 500).Select(async _ =>
        {
            using var r = await _client.SendAsync(QueryApi.Get($"/api/advertisers/adv-1/ads?{Range}", "adv-1"), ct);
            return (r.StatusCode, RetryAfter: r.Headers.RetryAfter?.Delta);
        }));
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, r => Assert.True(r.RetryAfter >= TimeSpan.FromSeconds(1), "429 without a Retry-After"));
        Assert.InRange(responses.Count(r => r.StatusCode == HttpStatusCode.OK), 100, 499);
        using var other = await _client.SendAsync(QueryApi.Get($"/api/advertisers/adv-2/ads?{Range}", "adv-2"), ct);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task Failed_authentications_from_one_client_are_throttled()
    {
        var ct = TestContext.Current.CancellationToken;
        var codes = new List<HttpStatusCode>();
        for (int i = 0; i < 30; i++)
        {
            using var r = await _client.SendAsync(Bearer($"/api/advertisers/adv-1/ads?{Range}", $"guess-{i}-0123456789abcdef"), ct);
            codes.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(r.Headers.RetryAfter);
            }
        }
        Assert.Equal(HttpStatusCode.Unauthorized, codes[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, codes[^1]);
    }

    [Fact]
    public async Task Csv_is_answered_with_a_header_row_for_format_csv_and_for_Accept_text_csv()
    {
        var ct = TestContext.Current.CancellationToken;
        string click = _host.Keys.ClickPath(new ClickUrlFields("ad-csv", "adv-1", "https://shop.example/p", "cmp-1", "imp-csv"));
        Assert.Equal(HttpStatusCode.Found, await QueryApi.ClickAsync(_client, click, ct));
        string path = $"/api/ads/ad-csv/clicks?{Range}&granularity=day";
        string csv = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline && CsvCell(csv, "clicks") != "1"; await Task.Delay(100, ct))
        {
            using var r = await _client.SendAsync(QueryApi.Get(path + "&format=csv", "adv-1"), ct);
            csv = r.StatusCode == HttpStatusCode.OK ? await r.Content.ReadAsStringAsync(ct) : "";
        }
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        // A header row, then one row per bucket with the response's top-level fields in front (docs/query-api.md).
        Assert.StartsWith("adId,advertiserId,granularity,", lines[0], StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);
        Assert.Equal("ad-csv", CsvCell(csv, "adId"));
        Assert.Equal("day", CsvCell(csv, "granularity"));
        Assert.Equal(QueryApi.Iso(Today), CsvCell(csv, "from"));
        Assert.Equal(QueryApi.Iso(Today.AddDays(1)), CsvCell(csv, "to"));
        Assert.Equal(QueryApi.Iso(Today), CsvCell(csv, "start"));
        Assert.Equal("1", CsvCell(csv, "clicks"));
        Assert.Equal("0", CsvCell(csv, "invalidClicks"));
        var request = QueryApi.Get(path, "adv-1");
        request.Headers.Accept.ParseAdd("text/csv");
        using var accepted = await _client.SendAsync(request, ct);
        Assert.Equal("text/csv", accepted.Content.Headers.ContentType?.MediaType);
        Assert.Equal(csv, await accepted.Content.ReadAsStringAsync(ct));
    }

    [Fact]
    public async Task The_ads_listing_pages_with_limit_and_cursor()
    {
        var ct = TestContext.Current.CancellationToken;
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Found, await QueryApi.ClickAsync(_client, _host.Keys.ClickPath(new ClickUrlFields($"ad-page-{i}", "adv-2", "https://shop.example/p", "cmp-1", $"imp-{i}")), ct));
        }
        AdvertiserAds all;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            all = await QueryApi.ListAsync(_client, "adv-2", Today, Today.AddDays(1), ct);
        }
        while (all.Ads.Count < 5 && DateTime.UtcNow < deadline && await Delay(ct));
        Assert.Equal(5, all.Ads.Count);
        var paged = new List<AdTotals>();
        string? cursor = null;
        int pages = 0;
        do
        {
            string path = $"/api/advertisers/adv-2/ads?{Range}&limit=2" + (cursor is null ? "" : $"&cursor={cursor}");
            using var r = await _client.SendAsync(QueryApi.Get(path, "adv-2"), ct);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var page = JsonSerializer.Deserialize<AdvertiserAds>(await r.Content.ReadAsStringAsync(ct), JsonSerializerOptions.Web)!;
            Assert.InRange(page.Ads.Count, 1, 2);
            paged.AddRange(page.Ads);
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);
        Assert.Equal(3, pages);
        Assert.Equal(all.Ads, paged);
        using var bad = await _client.SendAsync(QueryApi.Get($"/api/advertisers/adv-2/ads?{Range}&cursor=nonsense!", "adv-2"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private static async Task<bool> Delay(CancellationToken ct)
    {
        await Task.Delay(50, ct);
        return true;
    }

    /// <summary>The first data row's cell under <paramref name="column"/> (the fields here hold no commas or quotes), or null.</summary>
    private static string? CsvCell(string csv, string column)
    {
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2)
        {
            return null;
        }
        int index = Array.IndexOf(lines[0].Split(','), column);
        var cells = lines[1].Split(',');
        return index >= 0 && index < cells.Length ? cells[index] : null;
    }
}
