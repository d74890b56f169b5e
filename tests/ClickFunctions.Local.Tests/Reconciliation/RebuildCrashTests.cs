using System.Diagnostics;
using System.Globalization;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;
using ClickFunctions.Tests.Aggregation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Tests.Reconciliation;

/// <summary>
/// Crash safety of the disaster-recovery rebuild (issue 12, finding 5) on the real CLI process: with the store
/// deleted, <c>reconcile</c> is killed with SIGKILL at 20 points spread over an uninterrupted rebuild's duration, then
/// run again to the end; every time, the store answers the query API's calls exactly as the uninterrupted rebuild's
/// store does, and the host started on one of them serves the same over HTTP.
/// </summary>
public sealed class RebuildCrashTests : IDisposable
{
    private const int KillPoints = 20;
    private static readonly DateTimeOffset From = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddHours(2);
    private static readonly string[] Advertisers = ["adv-1", "adv-2"];
    private readonly string _root = Directory.CreateTempSubdirectory("cf-rebuild-crash-").FullName;

    private string Pristine => Path.Combine(_root, "pristine");

    private static string Ad(int i) => "ad-" + (i % 40).ToString(CultureInfo.InvariantCulture);

    /// <summary>A log of clicks over two hours: 40 ads of two advertisers, two campaigns, double clicks and bots.</summary>
    private async Task WriteLogAsync(int clicks, CancellationToken ct)
    {
        using var log = new LocalClickLog(new LocalLogOptions { Directory = Path.Combine(Pristine, "log") }, new FakeTimeProvider(To), NullLoggerFactory.Instance);
        for (int start = 0; start < clicks; start += 5_000)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(5_000, clicks - start)).Select(i =>
            {
                string advertiser = Advertisers[i % 40 / 20];
                string impression = "imp-" + (i % 10 == 0 ? i - 1 : i).ToString(CultureInfo.InvariantCulture); // every tenth repeats the one before
                var reason = i % 13 == 0 ? ClickReason.BotUserAgent : ClickReason.Valid;
                var click = new ClickEvent(ClickId.FromImpression(advertiser, Ad(i), impression), From.AddMilliseconds(i * (To - From).TotalMilliseconds / clicks),
                    Ad(i), advertiser, i % 3 == 0 ? "cmp-2" : "cmp-1", reason, "", "203.0.113.0", default);
                return log.AppendAsync(click, ct).AsTask();
            }));
        }
    }

    private string CopyOfPristine(string name)
    {
        string target = Path.Combine(_root, name);
        foreach (string file in Directory.EnumerateFiles(Pristine, "*", SearchOption.AllDirectories))
        {
            string copy = Path.Combine(target, Path.GetRelativePath(Pristine, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        return target;
    }

    private static ProcessStartInfo Reconcile(string dataDirectory)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dataDirectory };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "ClickFunctions.Local.dll"), "reconcile", "--from", QueryApi.Iso(From), "--to", QueryApi.Iso(To), "--data-dir", dataDirectory })
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }

    /// <summary>Runs <c>reconcile</c>; kills it with SIGKILL after <paramref name="killAfter"/> unless it ended first. True if killed.</summary>
    private static async Task<(bool Killed, int ExitCode, string Output)> RunAsync(string dataDirectory, TimeSpan? killAfter, CancellationToken ct)
    {
        using var process = Process.Start(Reconcile(dataDirectory))!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        bool killed = false;
        if (killAfter is { } after)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(after);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                process.Kill(); // SIGKILL on Unix
                killed = true;
            }
        }
        await process.WaitForExitAsync(ct);
        return (killed, process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Every answer the query API gives over the log's range: each advertiser's listing, each ad at each granularity.</summary>
    private static async Task<string> SnapshotAsync(string dataDirectory, CancellationToken ct)
    {
        using var store = new DuckDbClickStore(new ClickStoreOptions { Path = Path.Combine(dataDirectory, ClickStoreOptions.FileName) });
        var parts = new List<string>();
        var range = new TimeRange(From, To);
        foreach (string advertiser in Advertisers)
        {
            var listing = await store.ListAdsAsync(new AdvertiserAdsQuery(advertiser, range), ct);
            parts.Add(advertiser + ": " + string.Join(", ", listing.Ads));
            foreach (var ad in listing.Ads.Select(a => a.AdId).Distinct())
            {
                foreach (var granularity in new[] { Granularity.Minute, Granularity.Hour, Granularity.Day })
                {
                    var day = new TimeRange(From.Date, From.Date.AddDays(1));
                    var clicks = await store.GetAdClicksAsync(new AdClicksQuery(advertiser, ad, granularity, granularity == Granularity.Day ? day : range), ct);
                    parts.Add($"{advertiser}/{ad}/{granularity}: {clicks!.Total} " + string.Join(" ", clicks.Buckets));
                }
            }
        }
        return string.Join("\n", parts);
    }

    [Fact]
    public async Task Killing_reconcile_at_20_points_of_a_rebuild_then_rerunning_it_always_ends_with_the_uninterrupted_rebuilds_answers()
    {
        var ct = TestContext.Current.CancellationToken;
        await WriteLogAsync(30_000, ct);
        string baseline = CopyOfPristine("baseline");
        var watch = Stopwatch.StartNew();
        var uninterrupted = await RunAsync(baseline, null, ct);
        var duration = watch.Elapsed;
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Output);
        Assert.Contains("rebuilt an empty store", uninterrupted.Output, StringComparison.Ordinal);
        string expected = await SnapshotAsync(baseline, ct);
        Assert.Contains("adv-2/ad-39/Minute: ClickTotals { Clicks = ", expected, StringComparison.Ordinal);

        int killedRunning = 0;
        string? last = null;
        var outcomes = new List<string>();
        for (int point = 1; point <= KillPoints; point++)
        {
            string directory = CopyOfPristine("kill-" + point.ToString(CultureInfo.InvariantCulture));
            var killAt = duration * point / (KillPoints + 1);
            var killed = await RunAsync(directory, killAt, ct);
            killedRunning += killed.Killed ? 1 : 0;

            var rerun = await RunAsync(directory, null, ct);

            Assert.True(rerun.ExitCode == 0, $"kill point {point} ({killAt.TotalMilliseconds:F0} ms, killed: {killed.Killed}): re-run {rerun.Output}");
            outcomes.Add($"{point}: {(killed.Killed ? "killed" : "ended")} at {killAt.TotalMilliseconds:F0} ms, re-run {(rerun.Output.Contains("rebuilt an empty store", StringComparison.Ordinal) ? "rebuilt" : "reconciled")}");
            Assert.Equal(expected, await SnapshotAsync(directory, ct));
            last = directory;
        }
        Assert.True(killedRunning > 0, "no kill point hit a running rebuild:\n" + string.Join("\n", outcomes));
        TestContext.Current.TestOutputHelper?.WriteLine($"uninterrupted rebuild {duration.TotalMilliseconds:F0} ms\n" + string.Join("\n", outcomes));

        // The same answers over HTTP from the host started on the last recovered store.
        await using var host = await LocalHostProcess.StartAsync(last!, environment: QueryApi.Environment, cancellationToken: ct);
        using var client = host.CreateClient();
        foreach (string advertiser in Advertisers)
        {
            var listing = await QueryApi.ListAsync(client, advertiser, From, To, ct);
            Assert.Contains(advertiser + ": " + string.Join(", ", listing.Ads), expected, StringComparison.Ordinal);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
