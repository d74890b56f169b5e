using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Operations;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using ClickFunctions.Tests.Aggregation;

namespace ClickFunctions.Tests.Operations;

/// <summary>
/// Erasure by the real CLI over a real log and store (docs/decisions/087-erasure-by-tombstones.md): one click id goes
/// from the log and the counts, the sequence numbers stay whole and a reconcile matches; killed with SIGKILL at points
/// over a range erasure and run again, it always ends where the uninterrupted erasure ends.
/// </summary>
public sealed class ErasureTests : IDisposable
{
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);
    private readonly DateTimeOffset _t0 = HourBefore(DateTimeOffset.UtcNow).AddHours(-3);
    private readonly List<OfflineDataDirectory> _data = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DateTimeOffset HourBefore(DateTimeOffset now) => new(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero);

    /// <summary>30 minutes of clicks over 10 ads, each minute enqueued within its minute; every 20th repeats the one before (a duplicate).</summary>
    private async Task<OfflineDataDirectory> SeedAsync(int perMinute, Func<int, int, ClickEvent?>? extra = null)
    {
        var data = new OfflineDataDirectory(_t0, Horizon);
        _data.Add(data);
        for (int minute = 0; minute < 30; minute++)
        {
            data.Time.SetUtcNow(_t0.AddMinutes(minute).AddSeconds(59));
            var clicks = Enumerable.Range(0, perMinute).Select(i =>
            {
                int n = (minute * perMinute) + i;
                int impression = n % 20 == 0 && n > 0 ? n - 1 : n;
                return OfflineDataDirectory.Click("ad-" + (n % 10), "imp-" + impression, _t0.AddMinutes(minute).AddMilliseconds(i * 50_000.0 / perMinute));
            }).ToList();
            if (extra?.Invoke(minute, perMinute) is { } more)
            {
                clicks.Add(more);
            }
            await data.AppendAsync(clicks, Ct);
        }
        data.Time.SetUtcNow(_t0.AddMinutes(40));
        await data.ConsumeAsync(Ct);
        data.CloseStore();
        return data;
    }

    private async Task<Dictionary<string, (long Clicks, long Invalid)>> TotalsAsync(OfflineDataDirectory data)
    {
        var totals = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        for (int ad = 0; ad < 10; ad++)
        {
            var clicks = await data.Store.GetAdClicksAsync(new AdClicksQuery(OfflineDataDirectory.Advertiser, "ad-" + ad, Granularity.Hour, new TimeRange(_t0.AddHours(-1), _t0.AddHours(2))), Ct);
            totals["ad-" + ad] = (clicks?.Total.Clicks ?? 0, clicks?.Total.InvalidClicks ?? 0);
        }
        data.CloseStore();
        return totals;
    }

    /// <summary>Every record of the log: partition, sequence, and a hash of its body; asserts each partition's sequences are whole from 0.</summary>
    private static List<(int Partition, long Sequence, string Body, ClickEvent? Click)> ReadLog(OfflineDataDirectory data)
    {
        var all = new List<(int, long, string, ClickEvent?)>();
        foreach (int partition in LocalClickLog.PartitionsIn(data.LogDirectory))
        {
            using var reader = LocalClickLog.OpenOfflineReader(data.LogDirectory, partition, 0);
            var events = new List<RawEvent>();
            while (reader.Read(events, 100_000) > 0)
            {
            }
            Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (long)i), events.Select(e => e.SequenceNumber));
            all.AddRange(events.Select(e => (partition, e.SequenceNumber, Convert.ToHexString(SHA256.HashData(e.Body.Span)), e.Body.Length == 0 ? null : ClickWireFormat.Decode(e.Body.Span))));
        }
        return all;
    }

    private static Task<ToolResult> CliAsync(OfflineDataDirectory data, params string[] args) =>
        DotnetTool.RunAsync("ClickFunctions.Local.dll", [.. args, "--data-dir", data.Directory], Ct, new Dictionary<string, string?> { ["LocalLog__Partitions"] = "2" }, data.Directory);

    [Fact]
    public async Task Erasing_one_click_id_leaves_no_record_of_it_drops_its_count_by_one_and_the_gap_audit_and_a_reconcile_are_clean()
    {
        var target = OfflineDataDirectory.Click("ad-3", "the-one", _t0.AddMinutes(10).AddSeconds(55));
        var data = await SeedAsync(600, (minute, _) => minute == 10 ? target : null);
        var before = await TotalsAsync(data);
        var logBefore = ReadLog(data);
        Assert.Single(logBefore, r => r.Click?.ClickId == target.ClickId);

        var erase = await CliAsync(data, "erase", "--click-id", target.ClickId.ToString());
        Assert.True(erase.ExitCode == 0, erase.Output);
        Assert.Contains("erased 1 log records", erase.Stdout, StringComparison.Ordinal);

        var logAfter = ReadLog(data);
        Assert.DoesNotContain(logAfter, r => r.Click?.ClickId == target.ClickId);
        Assert.Equal(logBefore.Count, logAfter.Count); // every sequence number kept: one tombstone in its place
        Assert.Single(logAfter, r => r.Click is null);
        var after = await TotalsAsync(data);
        Assert.Equal(before.Where(b => b.Key != "ad-3"), after.Where(a => a.Key != "ad-3"));
        Assert.Equal((before["ad-3"].Clicks - 1, before["ad-3"].Invalid), after["ad-3"]);
        Assert.DoesNotContain(data.Store.LoadClaims(DateTimeOffset.MinValue), c => c.ClickId == target.ClickId);
        data.CloseStore();
        string report = Assert.Single(Directory.GetFiles(Path.Combine(data.Directory, ClickErasure.DirectoryName), "erasure-*.json"));
        Assert.Contains(target.ClickId.ToString(), await File.ReadAllTextAsync(report, Ct), StringComparison.Ordinal);

        var reconcile = await CliAsync(data, "reconcile", "--from", QueryApi.Iso(_t0), "--to", QueryApi.Iso(_t0.AddMinutes(40)));
        Assert.True(reconcile.ExitCode == 0, reconcile.Output);
        Assert.Contains("Matched", reconcile.Stdout, StringComparison.Ordinal);
        Assert.Contains(" 0 gaps", reconcile.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killing_a_range_erasure_at_points_over_its_run_then_running_it_again_always_ends_where_the_uninterrupted_one_ends()
    {
        string[] range = ["erase", "--from", QueryApi.Iso(_t0.AddMinutes(5)), "--to", QueryApi.Iso(_t0.AddMinutes(25))];
        var reference = await SeedAsync(1_500);
        var stopwatch = Stopwatch.StartNew();
        var uninterrupted = await CliAsync(reference, range);
        var duration = stopwatch.Elapsed;
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Output);
        var expectedTotals = await TotalsAsync(reference);
        var expectedLog = ReadLog(reference).Select(r => (r.Partition, r.Sequence, r.Body)).ToList();
        Assert.DoesNotContain(ReadLog(reference), r => r.Click is { } c && c.Timestamp >= _t0.AddMinutes(5) && c.Timestamp < _t0.AddMinutes(25));

        int interruptedMidway = 0;
        const int KillPoints = 3;
        for (int k = 1; k <= KillPoints; k++)
        {
            var data = await SeedAsync(1_500);
            await KillAfterAsync(data, range, duration * k / (KillPoints + 1));
            if (File.Exists(Path.Combine(data.Directory, ClickErasure.DirectoryName, ClickErasure.PendingName)))
            {
                interruptedMidway++;
            }
            var rerun = await CliAsync(data, range);
            Assert.True(rerun.ExitCode == 0, $"kill point {k}: {rerun.Output}");
            Assert.Equal(expectedTotals, await TotalsAsync(data));
            Assert.Equal(expectedLog, ReadLog(data).Select(r => (r.Partition, r.Sequence, r.Body)).ToList());
            Assert.Empty(Directory.GetFiles(data.LogDirectory, "*" + ".erasing", SearchOption.AllDirectories));
            data.Dispose();
        }
        Assert.True(interruptedMidway > 0, "no kill landed between the journal and the end of an erasure");
    }

    private static async Task KillAfterAsync(OfflineDataDirectory data, string[] args, TimeSpan delay)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = data.Directory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ClickFunctions.Local.dll"));
        foreach (string arg in args.Concat(["--data-dir", data.Directory]))
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["LocalLog__Partitions"] = "2";
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync(Ct);
        _ = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            await process.WaitForExitAsync(Ct).WaitAsync(delay, Ct);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true); // SIGKILL
        }
        await process.WaitForExitAsync(Ct);
    }

    public void Dispose()
    {
        foreach (var data in _data)
        {
            data.Dispose();
        }
    }
}
