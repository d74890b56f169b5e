using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ClickFunctions.Queries;
using ClickFunctions.Signing;
using ClickFunctions.Tests.Aggregation;
using Microsoft.Playwright;

namespace ClickFunctions.Tests.Dashboard;

/// <summary>
/// The dashboard at / of the real local host, in Debian's headless Chromium driven by Playwright (the system browser
/// as its executable; installed with apt-get by <see cref="EnsureChromiumAsync"/> when missing).
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cf-dash-").FullName;
    private LocalHostProcess _host = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        await EnsureChromiumAsync();
        _host = await LocalHostProcess.StartAsync(_dataDirectory, environment: QueryApi.KeysOnly, cancellationToken: TestContext.Current.CancellationToken);
        _client = _host.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private static async Task EnsureChromiumAsync()
    {
        if (File.Exists(Chromium))
        {
            return;
        }
        var install = Process.Start(new ProcessStartInfo("apt-get", ["install", "-y", "chromium"]) { Environment = { ["DEBIAN_FRONTEND"] = "noninteractive" } })!;
        await install.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(File.Exists(Chromium), "chromium is not installed and apt-get install chromium failed");
    }

    [Fact]
    public async Task Sign_in_shows_the_APIs_numbers_and_draws_the_chart_without_console_errors()
    {
        var ct = TestContext.Current.CancellationToken;
        var fields = (string imp) => new ClickUrlFields("ad-dash", "adv-1", "https://shop.example/p", "cmp-1", imp);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Found, await QueryApi.ClickAsync(_client, _host.Keys.ClickPath(fields($"imp-{i}")), ct));
        }
        Assert.Equal(HttpStatusCode.Found, await QueryApi.ClickAsync(_client, _host.Keys.ClickPath(fields("imp-bot")), ct, QueryApi.BotAgent));
        var today = Granularity.Day.Floor(DateTimeOffset.UtcNow);
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; await Task.Delay(50, ct))
        {
            var counted = await QueryApi.TryAdClicksAsync(_client, "adv-1", "ad-dash", Granularity.Day, today, today.AddDays(1), ct);
            if (counted?.Total == new ClickTotals(3, 1) || DateTime.UtcNow > deadline)
            {
                break;
            }
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 900 } });
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(_host.BaseAddress.ToString());
        await page.EvaluateAsync("() => { document.getElementById('tz').value = 'UTC'; }");
        await page.FillAsync("#advertiser", "adv-1");
        await page.FillAsync("#key", QueryApi.ApiKeys["adv-1"]);
        await page.ClickAsync("#signin button[type=submit]");
        await page.WaitForFunctionAsync("() => !!document.body.dataset.loaded", null, new PageWaitForFunctionOptions { Timeout = 15_000 });

        // The same request the page made, asked of the API directly.
        string loaded = await page.EvaluateAsync<string>("() => document.body.dataset.loaded");
        var (ad, query) = (loaded.Split('|')[0], loaded.Split('|')[1]);
        Assert.Equal("ad-dash", ad);
        using var response = await _client.SendAsync(QueryApi.Get($"/api/ads/{ad}/clicks?{query}&granularity=hour", "adv-1"), ct);
        var api = JsonSerializer.Deserialize<AdClicks>(await response.Content.ReadAsStringAsync(ct), JsonSerializerOptions.Web)!;
        Assert.Equal(3, api.Total.Clicks);
        Assert.Equal(api.Total.Clicks.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.InnerTextAsync("#total-valid"));
        Assert.Equal(api.Total.InvalidClicks.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.InnerTextAsync("#total-invalid"));
        Assert.Contains("ad-dash", await page.InnerTextAsync("#top tbody"), StringComparison.Ordinal);

        // The chart has drawn: a canvas with painted (non-transparent) pixels.
        int painted = await page.EvaluateAsync<int>("""
            () => {
              const c = document.querySelector('#chart canvas');
              if (!c || c.width === 0) return 0;
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
              return n;
            }
            """);
        Assert.True(painted > 100, $"the chart canvas is empty ({painted} painted pixels)");
        Assert.Empty(errors);

        byte[] png = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        Assert.NotEmpty(png);
        // docs/dashboard.png is refreshed only when asked (UPDATE_DOCS=1), so a test run leaves the clone unchanged.
        if (Environment.GetEnvironmentVariable("UPDATE_DOCS") == "1")
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ClickFunctions.sln")))
            {
                dir = dir.Parent;
            }
            await File.WriteAllBytesAsync(Path.Combine(dir!.FullName, "docs", "dashboard.png"), png, ct);
        }
    }
}
