using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Retention;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using ClickFunctions.Reconciliation;
using ClickFunctions.Tests.Aggregation;

namespace ClickFunctions.Tests.Operations;

/// <summary>
/// Retention set to minutes over a real log and store on a fake clock (docs/decisions/085-embedded-retention.md):
/// sealed segments go only once old, consumed and reconciled; counts stay exact; a reconcile or a query reaching
/// before what is kept is refused with its reason, by the real CLI (exit 8) and the real host (400).
/// </summary>
public sealed class RetentionTests : IDisposable
{
    private const int ClicksA = 60_000, ClicksB = 40_000;
    private static readonly TimeSpan Horizon = TimeSpan.FromMinutes(1);
    // On a whole hour (the query API takes hour ranges on whole hours), safely in the past of the real CLI's clock.
    private readonly DateTimeOffset _t0 = HourBefore(DateTimeOffset.UtcNow).AddHours(-3);
    private readonly OfflineDataDirectory _data;

    public RetentionTests() => _data = new OfflineDataDirectory(_t0, Horizon);

    private static DateTimeOffset HourBefore(DateTimeOffset now) => new(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RetentionOptions Options(TimeSpan? minute = null) => new() { Log = TimeSpan.FromMinutes(10), Minute = minute ?? TimeSpan.FromDays(90) };

    private async Task<long> HourTotalAsync()
    {
        long total = 0;
        for (int ad = 0; ad < 10; ad++)
        {
            var clicks = await _data.Store.GetAdClicksAsync(new AdClicksQuery(OfflineDataDirectory.Advertiser, "ad-" + ad, Granularity.Hour, new TimeRange(_t0.AddHours(-1), _t0.AddHours(2))), Ct);
            total += clicks?.Total.Clicks ?? 0;
        }
        return total;
    }

    /// <summary>The enqueued time of the first event of a segment, read with the log's own offline reader.</summary>
    private DateTimeOffset FirstEnqueued(int partition, long first)
    {
        using var reader = LocalClickLog.OpenOfflineReader(_data.LogDirectory, partition, first);
        var events = new List<RawEvent>();
        reader.Read(events, 1);
        return events[0].EnqueuedTime;
    }

    [Fact]
    public async Task Sealed_segments_go_only_once_consumed_and_reconciled_counts_stay_exact_and_a_dropped_range_is_refused_with_its_reason()
    {
        await _data.AppendAsync(Enumerable.Range(0, ClicksA).Select(i => OfflineDataDirectory.Click("ad-" + (i % 10), "a-" + i, _t0)), Ct);
        _data.Time.SetUtcNow(_t0.AddMinutes(20));
        await _data.AppendAsync(Enumerable.Range(0, ClicksB).Select(i => OfflineDataDirectory.Click("ad-" + (i % 10), "b-" + i, _t0.AddMinutes(20))), Ct);
        _data.Time.SetUtcNow(_t0.AddMinutes(40));
        var now = _data.Time.GetUtcNow();
        var before = Enumerable.Range(0, 2).ToDictionary(p => p, p => _data.Segments(p));
        // Segments holding only A's clicks: the next segment also starts with a click enqueued at t0.
        var onlyA = before.ToDictionary(p => p.Key, p => p.Value.Take(p.Value.Count - 1).Where((s, i) => FirstEnqueued(p.Key, p.Value[i + 1].First) == _t0).Select(s => s.Path).ToList());
        Assert.All(onlyA, p => Assert.NotEmpty(p.Value));
        Assert.All(before, p => Assert.True(p.Value.Count > onlyA[p.Key].Count + 1, "each partition also has segments with B's clicks"));

        // Partition 1's consumer has not passed its first segment; partition 0 is consumed but nothing is reconciled.
        await _data.ConsumeAsync(Ct, new Dictionary<int, long> { [1] = before[1][1].First - 1 });
        var reconciliation = _data.Reconciliation();
        var (unsettled, _) = await reconciliation.RunAsync(_t0.AddMinutes(-1), _t0.AddMinutes(5), Ct);
        Assert.Equal(ReconcileStatus.Unsettled, unsettled.Status);
        Assert.Null(_data.Store.Marks.ReconciledThrough);
        var sweep = _data.Retention(Options()).Run(now);
        Assert.Empty(sweep.Deleted);
        Assert.Contains(sweep.Segments, s => s.Partition == 1 && s.FirstSequence == 0 && s.KeptBecause!.Contains("consumer has not passed", StringComparison.Ordinal));
        Assert.Contains(sweep.Segments, s => s.Partition == 0 && s.FirstSequence == 0 && s.KeptBecause!.Contains("reconciliation has not closed", StringComparison.Ordinal));
        Assert.All(before, p => Assert.Equal(p.Value.Count, _data.Segments(p.Key).Count));

        // Consumed and reconciled up to t0+5m: exactly the segments holding only A's clicks go.
        await _data.ConsumeAsync(Ct);
        var (matched, _) = await reconciliation.RunAsync(_t0.AddMinutes(-1), _t0.AddMinutes(5), Ct);
        Assert.Equal(ReconcileStatus.Matched, matched.Status);
        Assert.Equal(_t0.AddMinutes(5), _data.Store.Marks.ReconciledThrough);
        sweep = _data.Retention(Options()).Run(now);
        Assert.Equal(onlyA.SelectMany(p => p.Value).Order(StringComparer.Ordinal), sweep.Deleted.Select(s => s.Path).Order(StringComparer.Ordinal));
        Assert.All(onlyA.SelectMany(p => p.Value), path => Assert.False(File.Exists(path)));
        Assert.All(before, p => Assert.Equal(p.Value.Count - onlyA[p.Key].Count, _data.Segments(p.Key).Count));
        Assert.Equal(ClicksA + ClicksB, await HourTotalAsync());

        // A window after a hole in the reconciled range recounts cleanly (no gap at the log's new front) but moves no mark.
        var (later, _) = await reconciliation.RunAsync(_t0.AddMinutes(10), _t0.AddMinutes(30), Ct);
        Assert.Equal(ReconcileStatus.Matched, later.Status);
        Assert.Empty(later.Gaps);
        Assert.Equal(_t0.AddMinutes(5), _data.Store.Marks.ReconciledThrough);
        Assert.Empty(_data.Retention(Options()).Run(now).Deleted);

        // The hole closed: every sealed segment goes, the active ones stay, the counts are still exact.
        var (closing, _) = await reconciliation.RunAsync(_t0.AddMinutes(5), _t0.AddMinutes(30), Ct);
        Assert.Equal(ReconcileStatus.Matched, closing.Status);
        sweep = _data.Retention(Options()).Run(now);
        Assert.NotEmpty(sweep.Deleted);
        Assert.All(before, p => Assert.Single(_data.Segments(p.Key)));
        Assert.All(sweep.Segments.Where(s => s.KeptBecause is not null), s => Assert.Equal("it is the active segment", s.KeptBecause));
        Assert.Equal(ClicksA + ClicksB, await HourTotalAsync());

        // A window whose recount needs deleted log: refused with its reason, nothing corrected.
        var (refused, _) = await reconciliation.RunAsync(_t0, _t0.AddMinutes(5), Ct);
        Assert.Equal(ReconcileStatus.NotRetained, refused.Status);
        Assert.Contains("deleted by retention", refused.Message, StringComparison.Ordinal);

        // Minute rows past a 30-minute retention go; the hour rollup still answers exactly, a minute query is refused.
        Assert.True(_data.Retention(Options(TimeSpan.FromMinutes(30))).Run(now).MinuteRows > 0);
        Assert.Equal(ClicksA + ClicksB, await HourTotalAsync());
        await Assert.ThrowsAsync<RangeNotRetainedException>(async () => await _data.Store.GetAdClicksAsync(
            new AdClicksQuery(OfflineDataDirectory.Advertiser, "ad-1", Granularity.Minute, new TimeRange(_t0, _t0.AddHours(1))), Ct));

        // The dimension rollups follow (docs/decisions/088): the quarter-hour rows went with the minutes, so a breakdown
        // whose range is not whole UTC days is refused with its reason; whole UTC days still answer, from the day rows.
        Assert.True(_data.Store.DimensionRowsDeleted > 0);
        var dayStart = new DateTimeOffset(_t0.UtcDateTime.Date, TimeSpan.Zero);
        BreakdownQuery ByCountry(DateTimeOffset from, DateTimeOffset to) =>
            new(OfflineDataDirectory.Advertiser, "ad-1", "country", global::ClickFunctions.Aggregation.ClickDimension.Country, new TimeRange(from, to), TimeZoneInfo.Utc, 100);
        var refusedBreakdown = await Assert.ThrowsAsync<RangeNotRetainedException>(async () => await _data.Store.GetBreakdownAsync(ByCountry(_t0, _t0.AddHours(1)), Ct));
        Assert.Contains("quarter-hour rows", refusedBreakdown.Message, StringComparison.Ordinal);
        var wholeDay = await _data.Store.GetBreakdownAsync(ByCountry(dayStart, dayStart.AddDays(1)), Ct);
        Assert.Equal((ClicksA + ClicksB) / 10, wholeDay!.Rows.Sum(r => r.Clicks));
        _data.CloseStore();

        // The real CLI: non-zero exit with the reason.
        var cli = await DotnetTool.RunAsync("ClickFunctions.Local.dll",
            ["reconcile", "--from", QueryApi.Iso(_t0), "--to", QueryApi.Iso(_t0.AddMinutes(5)), "--data-dir", _data.Directory], Ct,
            new Dictionary<string, string?> { ["Dedup__Horizon"] = "00:01:00", ["LocalLog__Partitions"] = "2" }, _data.Directory);
        Assert.True(cli.ExitCode == 8, cli.Output);
        Assert.Contains("deleted by retention", cli.Stderr, StringComparison.Ordinal);

        // The real host: a minute query before the floor is a 400 saying so; disk usage on /healthz.
        var environment = new Dictionary<string, string>(QueryApi.Environment) { ["Dedup__Horizon"] = "00:01:00", ["LocalLog__Partitions"] = "2" };
        await using var host = await LocalHostProcess.StartAsync(_data.Directory, environment: environment, cancellationToken: Ct);
        using var client = host.CreateClient();
        using (var response = await client.SendAsync(QueryApi.Get(QueryApi.AdClicksPath("ad-1", Granularity.Minute, _t0, _t0.AddHours(1)), "adv-1"), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("no longer kept", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        using (var response = await client.SendAsync(QueryApi.Get($"/api/ads/ad-1/breakdown?by=country&from={QueryApi.Iso(_t0)}&to={QueryApi.Iso(_t0.AddHours(1))}", "adv-1"), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("quarter-hour rows", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        var hours = await QueryApi.AdClicksAsync(client, "adv-1", "ad-1", Granularity.Hour, _t0.AddHours(-1), _t0.AddHours(2), Ct);
        Assert.Equal((ClicksA + ClicksB) / 10, hours.Total.Clicks);
        using var health = JsonDocument.Parse(await client.GetStringAsync(new Uri("/healthz", UriKind.Relative), Ct));
        Assert.Equal(DirectorySize(_data.LogDirectory), health.RootElement.GetProperty("logBytes").GetInt64());
        Assert.True(health.RootElement.GetProperty("storeBytes").GetInt64() > 0);
        string metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
        Assert.Contains("clickfunctions_log_size_bytes", metrics, StringComparison.Ordinal);
        Assert.Contains("clickfunctions_store_size_bytes", metrics, StringComparison.Ordinal);
    }

    private static long DirectorySize(string directory) => new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    public void Dispose() => _data.Dispose();
}
