using System.Diagnostics;
using System.Globalization;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// <c>log-size [--clicks N] [--dir D]</c>: appends N clicks shaped like the host's (a click id, the ad, advertiser
/// and campaign of 100,000 ads, a referrer host, a truncated IP, a fingerprint and every breakdown dimension, the
/// optional signed fields included) through the real log writer with its default segments, and prints bytes per
/// record and what 35 days (Retention:Log) at 1M clicks a day take, extrapolated from that measurement.
/// </summary>
public static class LogSize
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }
        int clicks = int.Parse(options.GetValueOrDefault("clicks", "300000"), CultureInfo.InvariantCulture);
        string dir = options.GetValueOrDefault("dir", Path.Combine(Path.GetTempPath(), "cf-log-size"));
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        string[] countries = ["US", "DE", "GB", "FR", "IN", "BR", "JP", "unknown"];
        string[] devices = ["desktop", "mobile", "tablet"];
        string[] systems = ["windows", "ios", "android", "macos", "linux"];
        string[] browsers = ["chrome", "safari", "edge", "firefox", "samsung"];
        string[] referrers = ["", "news.example.com", "www.google.com", "m.facebook.com", "blog.example.org"];
        var random = new Random(11);
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var watch = Stopwatch.StartNew();
        using (var log = new LocalClickLog(new LocalLogOptions { Directory = dir }, TimeProvider.System, NullLoggerFactory.Instance))
        {
            const int Batch = 2_000;
            for (int i = 0; i < clicks; i += Batch)
            {
                var pending = new List<Task>(Batch);
                for (int j = i; j < Math.Min(clicks, i + Batch); j++)
                {
                    int ad = random.Next(100_000);
                    string advertiser = "adv-" + (ad % 1000).ToString(CultureInfo.InvariantCulture);
                    string adId = "ad-" + ad.ToString(CultureInfo.InvariantCulture);
                    var click = new ClickEvent(ClickId.FromImpression(advertiser, adId, "imp-" + j.ToString(CultureInfo.InvariantCulture)), start.AddMilliseconds(j * 86.4),
                        adId, advertiser, "cmp-" + (ad % 7).ToString(CultureInfo.InvariantCulture), random.Next(50) == 0 ? ClickReason.BotUserAgent : ClickReason.Valid,
                        referrers[random.Next(referrers.Length)], "203.0." + random.Next(256).ToString(CultureInfo.InvariantCulture) + ".0",
                        new Fingerprint(new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64())))
                    {
                        Dimensions = new ClickDimensions(countries[random.Next(countries.Length)], devices[random.Next(devices.Length)], systems[random.Next(systems.Length)],
                            browsers[random.Next(browsers.Length)], "pub-" + random.Next(500).ToString(CultureInfo.InvariantCulture), "slot-" + random.Next(20).ToString(CultureInfo.InvariantCulture),
                            "crv-" + random.Next(50).ToString(CultureInfo.InvariantCulture), ""),
                    };
                    pending.Add(log.AppendAsync(click, CancellationToken.None).AsTask());
                }
                await Task.WhenAll(pending);
            }
        }
        long bytes = new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        double perRecord = bytes / (double)clicks;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{clicks:N0} clicks, {bytes:N0} bytes in {dir} ({watch.Elapsed.TotalSeconds:F1} s): {perRecord:F1} bytes per record; 1M clicks a day: {perRecord * 1e6 / (1 << 20):F0} MiB a day; 35 days (Retention:Log): {perRecord * 35e6 / (1L << 30):F2} GiB"));
        Directory.Delete(dir, recursive: true);
        return 0;
    }
}
