using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Identity;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Functions;
using ClickFunctions.Queries;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// The query contract of docs/query-api.md answered by both hosts, compared answer by answer: the real local host
/// process (`dotnet ClickFunctions.Local.dll`, its DuckDB store holding the buckets) and the Functions app's query
/// functions over the loopback ADX server, whose engine holds exactly the rows the app's bucket sink ingested (the
/// aggregator's write path) and evaluates the app's KQL over the views the infra scripts declare. The same buckets
/// (with their dimension values) go into both. Days are the next DST spring-forward and fall-back days of
/// America/New_York (so the data is never past any retention) and days in Asia/Kathmandu (+05:45) and Asia/Kolkata (+05:30), whose
/// buckets are also checked against Python's zoneinfo.
/// </summary>
public sealed partial class QueryContractTests : IAsyncLifetime
{
    private const string Principal = "11111111-1111-1111-1111-111111111111";
    private const string ApiKey = "adv-1-key-0123456789abcdef";
    private static readonly string[] Countries = ["DE", "US", "IN", "FR", "NP", "BR", "JP", "GB", "CA", "AU", "ES", "IT"];
    private static readonly string[] Devices = ["desktop", "mobile", "tablet"];
    private static readonly ClickReason[] Reasons = [ClickReason.BotUserAgent, ClickReason.Duplicate, ClickReason.DataCentre, ClickReason.ClickFlooding];

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-contract-").FullName;
    private LoopbackKusto _adx = null!;
    private readonly LoopbackAdxEngine _engine = new();
    private IHost _app = null!;
    private Process? _local;
    private Uri _localAddress = null!;
    private readonly StringBuilder _localOutput = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static readonly TimeZoneInfo NewYork = LocalCalendar.FindZone("America/New_York")!;

    /// <summary>The next local days of New York that are not 24 hours long: (spring forward, fall back), in time order.</summary>
    private static List<DateOnly> DstDays()
    {
        var days = new List<DateOnly>();
        var today = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1);
        for (int i = 0; i < 400 && days.Count < 2; i++)
        {
            var day = today.AddDays(i);
            var start = LocalCalendar.StartOfLocal(NewYork, day.ToDateTime(TimeOnly.MinValue));
            var end = LocalCalendar.StartOfLocal(NewYork, day.AddDays(1).ToDateTime(TimeOnly.MinValue));
            if (end - start != TimeSpan.FromHours(24))
            {
                days.Add(day);
            }
        }
        return days;
    }

    private static readonly List<DateOnly> Dst = DstDays();

    private static readonly DateOnly KathmanduDay = Dst[0].AddDays(10);

    private static readonly DateOnly KolkataDay = Dst[0].AddDays(13);

    /// <summary>Clicks every 7 minutes over [from, to) of ad-1 (campaign cmp-1) and every 11 minutes of ad-2 (cmp-2); reasons, countries and devices rotate.</summary>
    private static Dictionary<BucketKey, BucketCounts> Buckets()
    {
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        void Fill(string ad, string campaign, int every, DateTimeOffset from, DateTimeOffset to)
        {
            int n = 0;
            for (var t = from; t < to; t = t.AddMinutes(every), n++)
            {
                var key = new BucketKey("adv-1", campaign, ad, t);
                if (!buckets.TryGetValue(key, out var counts))
                {
                    buckets[key] = counts = new BucketCounts();
                }
                int clicks = 1 + (n % 3);
                bool invalid = n % 5 == 0;
                string country = Countries[(n * n + n / 7) % Countries.Length];
                string device = Devices[n % Devices.Length];
                if (invalid)
                {
                    counts.Add(Reasons[(n / 5) % Reasons.Length], 1);
                }
                counts.Add(ClickReason.Valid, clicks);
                counts.AddDimension(ClickDimension.Country, country, clicks, invalid ? 1 : 0);
                counts.AddDimension(ClickDimension.Device, device, clicks, invalid ? 1 : 0);
                counts.AddDimension(ClickDimension.Referrer, n % 4 == 0 ? "direct" : "news.example", clicks, invalid ? 1 : 0);
            }
        }
        foreach (var day in Dst)
        {
            var from = LocalCalendar.StartOfLocal(NewYork, day.AddDays(-1).ToDateTime(TimeOnly.MinValue));
            var to = LocalCalendar.StartOfLocal(NewYork, day.AddDays(2).ToDateTime(TimeOnly.MinValue));
            Fill("ad-1", "cmp-1", 7, from, to);
            Fill("ad-2", "cmp-2", 11, from.AddHours(5), to.AddHours(-5));
        }
        var kathmandu = LocalCalendar.FindZone("Asia/Kathmandu")!;
        var k = LocalCalendar.StartOfLocal(kathmandu, KathmanduDay.ToDateTime(TimeOnly.MinValue));
        Fill("ad-1", "cmp-1", 7, k.AddHours(-3), k.AddHours(51));
        var kolkata = LocalCalendar.FindZone("Asia/Kolkata")!;
        var i = LocalCalendar.StartOfLocal(kolkata, KolkataDay.ToDateTime(TimeOnly.MinValue));
        Fill("ad-1", "cmp-1", 7, i.AddHours(-3), i.AddHours(51));
        return buckets;
    }

    public async ValueTask InitializeAsync()
    {
        var buckets = Buckets();

        // The Functions app's shape: the aggregator's sink ingests the rows into the loopback ADX server's engine.
        _adx = await LoopbackKusto.StartAsync();
        _engine.Attach(_adx);
        var settings = AppSettings.Valid();
        settings["Kusto:ClusterUri"] = _adx.BaseAddress.ToString();
        settings["Kusto:IngestionMode"] = "Streaming";
        var builder = Program.CreateBuilder(AppSettings.AsArgs(settings));
        builder.Services.AddSingleton<TokenCredential>(_adx.Credential);
        _app = builder.Build();
        await _app.Services.GetRequiredService<ClickFunctions.Ports.IBucketSink>().WriteAsync("0:1-100", buckets, TestContext.Current.CancellationToken);
        // A redelivered batch writes the same row ids again: the dedup view must collapse them.
        await _app.Services.GetRequiredService<ClickFunctions.Ports.IBucketSink>().WriteAsync("0:1-100", buckets, TestContext.Current.CancellationToken);
        Assert.Empty(_engine.Problems);

        // The local host's shape: the same buckets committed into its DuckDB store, then the real host process.
        using (var store = new DuckDbClickStore(new ClickStoreOptions { Path = Path.Combine(_dataDirectory, ClickStoreOptions.FileName) }))
        {
            store.Commit(new StoreBatch(buckets, [], [], new Dictionary<int, long>()));
        }
        await StartLocalHostAsync();
    }

    private async Task StartLocalHostAsync()
    {
        string dll = Path.Combine(TestPaths.Metadata("LocalHostOutput"), "ClickFunctions.Local.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dataDirectory };
        foreach (string arg in new[] { dll, "--urls", "http://127.0.0.1:0", "--data-dir", _dataDirectory })
        {
            start.ArgumentList.Add(arg);
        }
        var keys = AppSettings.Valid();
        start.Environment["ClickSigning__KeyId"] = keys["ClickSigning:KeyId"];
        start.Environment["ClickSigning__Key"] = keys["ClickSigning:Key"];
        start.Environment["Privacy__FingerprintSecret"] = keys["Privacy:FingerprintSecret"];
        start.Environment["Advertisers__adv-1__ApiKey"] = ApiKey;
        // The test sends a few dozen requests; the per-key limit is not what it checks.
        start.Environment["RateLimits__PerKeyPerSecond"] = "100000";
        start.Environment["RateLimits__PerKeyBurst"] = "100000";
        // No periodic reconciliation during the test: neither host confirms a window, so both answer finalThrough null
        // (the Azure reconciler's windows are tested in AzureReconciliationTests).
        start.Environment["Reconcile__Interval"] = "1.00:00:00";
        start.Environment["Reconcile__Span"] = "1.00:00:00";
        start.Environment["DOTNET_gcServer"] = "0";
        _local = Process.Start(start)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }
            lock (_localOutput)
            {
                _localOutput.AppendLine(e.Data);
            }
            if (ListeningLine().Match(e.Data) is { Success: true } m)
            {
                listening.TrySetResult(new Uri(m.Groups[1].Value));
            }
        }
        _local.OutputDataReceived += OnLine;
        _local.ErrorDataReceived += OnLine;
        _local.BeginOutputReadLine();
        _local.BeginErrorReadLine();
        var first = await Task.WhenAny(listening.Task, _local.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)));
        Assert.True(first == listening.Task, "the local host did not start:\n" + _localOutput);
        _localAddress = await listening.Task;
    }

    public async ValueTask DisposeAsync()
    {
        if (_local is not null)
        {
            if (!_local.HasExited)
            {
                _local.Kill(entireProcessTree: true);
            }
            await _local.WaitForExitAsync();
            _local.Dispose();
        }
        _http.Dispose();
        if (_app is not null)
        {
            await ((IAsyncDisposable)_app).DisposeAsync();
        }
        if (_adx is not null)
        {
            await _adx.DisposeAsync();
        }
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private async Task<(int Status, string Body)> LocalAsync(string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_localAddress, pathAndQuery));
        request.Headers.Add("X-Api-Key", ApiKey);
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>The Functions app's function for the route, invoked as the worker does, with the Easy Auth principal header.</summary>
    private async Task<(int Status, string Body)> FunctionsAsync(string pathAndQuery)
    {
        int q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        string path = q < 0 ? pathAndQuery : pathAndQuery[..q];
        var context = new DefaultHttpContext { RequestServices = _app.Services };
        context.Request.Method = "GET";
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(q < 0 ? "" : pathAndQuery[q..]);
        context.Request.Headers[AdvertiserPrincipals.PrincipalIdHeader] = Principal;
        var body = new MemoryStream();
        context.Response.Body = body;
        string[] segments = path.Trim('/').Split('/');
        string id = segments[2];
        await ((segments[1], segments[3]) switch
        {
            ("ads", "clicks") => ActivatorUtilities.CreateInstance<GetAdClicks>(_app.Services).RunAsync(context.Request, id),
            ("ads", "breakdown") => ActivatorUtilities.CreateInstance<GetAdBreakdown>(_app.Services).RunAsync(context.Request, id),
            ("advertisers", "breakdown") => ActivatorUtilities.CreateInstance<GetAdvertiserBreakdown>(_app.Services).RunAsync(context.Request, id),
            ("advertisers", "ads") => ActivatorUtilities.CreateInstance<ListAdvertiserAds>(_app.Services).RunAsync(context.Request, id),
            _ => throw new ArgumentException("no function serves " + path),
        });
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
    }

    private static string Date(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Both hosts' answers to one request, which must be the same status and the same JSON.</summary>
    private async Task<JsonNode?> SameAnswerAsync(string pathAndQuery, int status = 200)
    {
        var local = await LocalAsync(pathAndQuery);
        var functions = await FunctionsAsync(pathAndQuery);
        Assert.True(local.Status == status, $"local host {local.Status} for {pathAndQuery}: {local.Body}");
        Assert.True(functions.Status == status, $"Functions app {functions.Status} for {pathAndQuery}: {functions.Body}\nADX: {string.Join('\n', _adx.Mismatches.Concat(_engine.Problems))}");
        if (status != 200)
        {
            return null;
        }
        var a = JsonNode.Parse(local.Body);
        var b = JsonNode.Parse(functions.Body);
        Assert.True(JsonNode.DeepEquals(a, b), $"{pathAndQuery}\nlocal host: {local.Body}\nFunctions app: {functions.Body}");
        return a;
    }

    private static void ReasonsSumToInvalid(JsonNode? counts)
    {
        long invalid = (long)counts!["invalidClicks"]!;
        long byReason = counts["invalidByReason"]!.AsObject().Sum(p => (long)p.Value!);
        Assert.Equal(invalid, byReason);
    }

    private static void EveryCountSplitsByReason(JsonNode answer)
    {
        ReasonsSumToInvalid(answer["total"]);
        foreach (var bucket in answer["buckets"]!.AsArray())
        {
            ReasonsSumToInvalid(bucket);
        }
    }

    [Fact]
    public async Task Dst_days_in_New_York_give_the_same_23_and_25_hour_buckets_in_both_hosts()
    {
        var (spring, fall) = NewYork.IsDaylightSavingTime(LocalCalendar.StartOfLocal(NewYork, Dst[0].AddDays(2).ToDateTime(TimeOnly.MinValue)))
            ? (Dst[0], Dst[1]) : (Dst[1], Dst[0]);
        foreach (var (day, hours) in new[] { (spring, 23), (fall, 25) })
        {
            var answer = await SameAnswerAsync($"/api/ads/ad-1/clicks?from={Date(day)}&to={Date(day.AddDays(1))}&granularity=hour&tz=America/New_York");
            Assert.Equal(hours, answer!["buckets"]!.AsArray().Count);
            Assert.Equal("America/New_York", (string?)answer["timeZone"]);
            EveryCountSplitsByReason(answer);
            Assert.True((long)answer["total"]!["invalidClicks"]! > 0);

            var days = await SameAnswerAsync($"/api/ads/ad-1/clicks?from={Date(day.AddDays(-1))}&to={Date(day.AddDays(2))}&granularity=day&tz=America/New_York");
            Assert.Equal(3, days!["buckets"]!.AsArray().Count);
            EveryCountSplitsByReason(days);
            // The DST day's bucket starts at local midnight with that day's offset, the next one with the other offset.
            var starts = days["buckets"]!.AsArray().Select(b => DateTimeOffset.Parse((string)b!["start"]!, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(TimeSpan.FromHours(hours), starts[2] - starts[1]);
        }
    }

    [Fact]
    public async Task Week_month_Kathmandu_and_UTC_minute_buckets_are_the_same_in_both_hosts()
    {
        var day = Dst[0];
        var monday = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
        EveryCountSplitsByReason((await SameAnswerAsync($"/api/ads/ad-1/clicks?from={Date(monday)}&to={Date(monday.AddDays(14))}&granularity=week&tz=America/New_York"))!);
        var month = new DateOnly(day.Year, day.Month, 1);
        EveryCountSplitsByReason((await SameAnswerAsync($"/api/ads/ad-1/clicks?from={Date(month)}&to={Date(month.AddMonths(1))}&granularity=month&tz=America/New_York"))!);

        var kathmandu = await SameAnswerAsync($"/api/ads/ad-1/clicks?from={Date(KathmanduDay)}&to={Date(KathmanduDay.AddDays(1))}&granularity=hour&tz=Asia/Kathmandu");
        Assert.Equal(24, kathmandu!["buckets"]!.AsArray().Count);
        Assert.All(kathmandu["buckets"]!.AsArray(), b => Assert.EndsWith(":00:00+05:45", (string)b!["start"]!, StringComparison.Ordinal));
        EveryCountSplitsByReason(kathmandu);
        EveryCountSplitsByReason((await SameAnswerAsync($"/api/ads/ad-1/clicks?from={Date(KathmanduDay)}&to={Date(KathmanduDay.AddDays(2))}&granularity=day&tz=Asia/Kathmandu"))!);

        var utcStart = LocalCalendar.StartOfLocal(NewYork, Dst[1].ToDateTime(TimeOnly.MinValue)).UtcDateTime;
        string iso = utcStart.AddHours(3).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        string isoTo = utcStart.AddHours(5).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var minutes = await SameAnswerAsync($"/api/ads/ad-1/clicks?from={iso}&to={isoTo}&granularity=minute");
        // One bucket per minute of ad-1 that the input has in the range (every 7th minute of its fill).
        int expected = Buckets().Keys.Count(k => k.AdId == "ad-1" && k.Minute >= utcStart.AddHours(3) && k.Minute < utcStart.AddHours(5));
        Assert.InRange(expected, 17, 18);
        Assert.Equal(expected, minutes!["buckets"]!.AsArray().Count);
        EveryCountSplitsByReason(minutes);
        var ads = await SameAnswerAsync($"/api/advertisers/adv-1/ads?from={iso}&to={isoTo}");
        Assert.Equal(2, ads!["ads"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("Asia/Kolkata", "hour")]
    [InlineData("Asia/Kolkata", "day")]
    [InlineData("Asia/Kathmandu", "hour")]
    [InlineData("Asia/Kathmandu", "day")]
    public async Task Half_and_quarter_hour_zones_give_both_hosts_the_buckets_of_pythons_zoneinfo(string zoneId, string unit)
    {
        var day = zoneId == "Asia/Kolkata" ? KolkataDay : KathmanduDay;
        var end = unit == "day" ? day.AddDays(2) : day.AddDays(1);
        var answer = await SameAnswerAsync($"/api/ads/ad-1/clicks?from={Date(day)}&to={Date(end)}&granularity={unit}&tz={zoneId}");

        var zone = LocalCalendar.FindZone(zoneId)!;
        var from = LocalCalendar.StartOfLocal(zone, day.ToDateTime(TimeOnly.MinValue));
        var to = LocalCalendar.StartOfLocal(zone, end.ToDateTime(TimeOnly.MinValue));
        // One input line per click (valid or not) of ad-1 in the range, at its UTC minute.
        var minutes = Buckets().Where(b => b.Key.AdId == "ad-1" && b.Key.Minute >= from && b.Key.Minute < to)
            .SelectMany(b => Enumerable.Repeat(b.Key.Minute.ToUnixTimeSeconds() / 60, (int)(b.Value.Clicks + b.Value.InvalidClicks)));
        var expected = ClickFunctions.Tests.ZoneInfoBuckets.Python(zoneId, unit, minutes);
        var actual = answer!["buckets"]!.AsArray().Select(b => $"{(string)b!["start"]!} {(long)b["clicks"]! + (long)b["invalidClicks"]!}").ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(unit == "day" ? 2 : 24, actual.Count);
        EveryCountSplitsByReason(answer);
    }

    [Fact]
    public async Task Breakdowns_with_a_limit_fold_the_rest_into_other_the_same_way_in_both_hosts()
    {
        var day = Dst[1];
        string range = $"from={Date(day)}&to={Date(day.AddDays(1))}&tz=America/New_York";
        var all = await SameAnswerAsync($"/api/ads/ad-1/breakdown?by=country&{range}");
        var rows = all!["rows"]!.AsArray();
        Assert.Equal(Countries.Length, rows.Count);
        var limited = await SameAnswerAsync($"/api/ads/ad-1/breakdown?by=country&{range}&limit=5");
        var kept = limited!["rows"]!.AsArray();
        Assert.Equal(6, kept.Count);
        Assert.Equal("other", (string?)kept[5]!["value"]);
        Assert.Equal(rows.Skip(5).Sum(r => (long)r!["clicks"]!), (long)kept[5]!["clicks"]!);
        Assert.Equal(rows.Skip(5).Sum(r => (long)r!["invalidClicks"]!), (long)kept[5]!["invalidClicks"]!);

        // The breakdown's valid clicks are the ad's valid clicks over the same local day.
        var clicks = await SameAnswerAsync($"/api/ads/ad-1/clicks?{range}&granularity=day");
        Assert.Equal((long)clicks!["total"]!["clicks"]!, rows.Sum(r => (long)r!["clicks"]!));
        Assert.Equal((long)clicks["total"]!["invalidClicks"]!, rows.Sum(r => (long)r!["invalidClicks"]!));

        // Kathmandu: quarter-hour edges of the dimension views.
        await SameAnswerAsync($"/api/ads/ad-1/breakdown?by=device&from={Date(KathmanduDay)}&to={Date(KathmanduDay.AddDays(1))}&tz=Asia/Kathmandu");
        foreach (string by in new[] { "ad", "campaign", "referrer", "country" })
        {
            var advertiser = await SameAnswerAsync($"/api/advertisers/adv-1/breakdown?by={by}&{range}&limit=3");
            Assert.NotEmpty(advertiser!["rows"]!.AsArray());
        }
    }

    [Fact]
    public async Task Refusals_are_the_same_in_both_hosts()
    {
        string range = $"from={Date(Dst[0])}&to={Date(Dst[0].AddDays(1))}";
        await SameAnswerAsync($"/api/ads/ad-1/clicks?{range}&granularity=hour&tz=Mars/Olympus_Mons", 400);
        await SameAnswerAsync($"/api/ads/no-such-ad/clicks?{range}&granularity=hour&tz=America/New_York", 404);
        await SameAnswerAsync($"/api/ads/no-such-ad/breakdown?by=country&{range}&tz=America/New_York", 404);
        await SameAnswerAsync($"/api/ads/ad-1/breakdown?by=planet&{range}&tz=America/New_York", 400);
        await SameAnswerAsync($"/api/ads/ad-1/breakdown?by=ad&{range}&tz=America/New_York", 400);
    }

    [GeneratedRegex(@"listening on:\s+(http://\S+)")]
    private static partial Regex ListeningLine();
}
