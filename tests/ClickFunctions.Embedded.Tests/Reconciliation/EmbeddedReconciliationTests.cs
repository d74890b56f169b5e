using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Tests.Reconciliation;

/// <summary>The reconciler over the real local log files and the real DuckDB store.</summary>
public sealed class EmbeddedReconciliationTests : IDisposable
{
    private static readonly DateTimeOffset T = new(2026, 11, 29, 12, 0, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset From = T.AddMinutes(-10).AddSeconds(-30);
    private static readonly DateTimeOffset To = T.AddMinutes(10).AddSeconds(-30);
    private static readonly DateTimeOffset Hour = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-reconcile-").FullName;
    private readonly FakeTimeProvider _time = new(T.AddHours(1));

    private string LogDirectory => Path.Combine(_directory, "log");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ClickEvent Click(int i, string? impression = null, ClickReason reason = ClickReason.Valid) => new(
        ClickId.FromImpression("adv-1", "ad-" + (i % 5), impression ?? "imp-" + i), T.AddMilliseconds(i),
        "ad-" + (i % 5), "adv-1", "cmp-1", reason, "", "203.0.113.0", default);

    /// <summary>Appends clicks to a real local log (enqueued at <see cref="T"/>) and closes it.</summary>
    private async Task WriteLogAsync(IEnumerable<ClickEvent> clicks, long segmentBytes = 64L * 1024 * 1024)
    {
        using var log = new LocalClickLog(new LocalLogOptions { Directory = LogDirectory, Partitions = 2, SegmentBytes = segmentBytes }, new FakeTimeProvider(T), NullLoggerFactory.Instance);
        await Task.WhenAll(clicks.Select(c => log.AppendAsync(c, Ct).AsTask()));
    }

    /// <summary>What the live consumer would have committed for the whole log: buckets, claims and end positions.</summary>
    private async Task<DuckDbClickStore> AggregateLiveAsync(Func<BucketKey, BucketCounts, bool>? keep = null, long positionShortfall = 0)
    {
        var store = new DuckDbClickStore(new ClickStoreOptions { Path = Path.Combine(_directory, ClickStoreOptions.FileName) });
        var claims = new EmbeddedClaimStore(Horizon);
        var step = new AggregationStep(claims);
        var positions = new Dictionary<int, long>();
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        foreach (int p in LocalClickLog.PartitionsIn(LogDirectory))
        {
            using var reader = LocalClickLog.OpenOfflineReader(LogDirectory, p, 0);
            var events = new List<Ports.RawEvent>();
            while (reader.Read(events, 100_000) > 0)
            {
            }
            var result = await step.AggregateAsync(events, Ct);
            foreach (var (key, counts) in result.Buckets.Where(b => keep?.Invoke(b.Key, b.Value) ?? true))
            {
                buckets.Add(key, counts);
            }
            positions[p] = reader.NextSequence - positionShortfall;
        }
        store.Commit(new StoreBatch(buckets, claims.Pending, [], positions));
        return store;
    }

    private Reconciler Reconciler(DuckDbClickStore store) =>
        new(new LocalLogRawSource(LogDirectory), new DuckDbBucketCorrections(store), LocalOptions(), Horizon, _time);

    private static ReconcileOptions LocalOptions()
    {
        var options = new ReconcileOptions();
        EmbeddedReconciliationExtensions.LocalDefaults(options);
        return options;
    }

    private static async Task<long> TotalClicksAsync(DuckDbClickStore store, string ad, Granularity granularity, DateTimeOffset from, DateTimeOffset to) =>
        (await store.GetAdClicksAsync(new AdClicksQuery("adv-1", ad, granularity, new TimeRange(from, to)), Ct))?.Total.Clicks ?? 0;

    [Fact]
    public async Task A_store_that_lost_an_ads_buckets_is_corrected_from_the_local_log_in_minute_hour_and_day_rollups_and_a_rerun_writes_nothing()
    {
        await WriteLogAsync(Enumerable.Range(0, 200).Select(i => Click(i)).Append(Click(0, "imp-0")).Append(Click(1, reason: ClickReason.BotUserAgent)));
        using var store = await AggregateLiveAsync(keep: (key, _) => key.AdId != "ad-0");
        Assert.Equal(0, await TotalClicksAsync(store, "ad-0", Granularity.Minute, T.AddMinutes(-1).AddSeconds(-30), T.AddMinutes(1).AddSeconds(-30)));

        var first = await Reconciler(store).ReconcileAsync(From, To, Ct);
        var second = await Reconciler(store).ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Corrected, first.Status);
        Assert.Equal(40, first.AbsoluteClickDifference);
        Assert.Equal(1, first.AbsoluteInvalidClickDifference); // the double click of imp-0 is a duplicate of ad-0
        Assert.Equal(202, first.EventsRead);
        Assert.Equal(ReconcileStatus.Matched, second.Status);
        Assert.Equal(40, await TotalClicksAsync(store, "ad-0", Granularity.Hour, Hour, Hour.AddHours(1)));
        Assert.Equal(40, await TotalClicksAsync(store, "ad-0", Granularity.Day, new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(40, await TotalClicksAsync(store, "ad-1", Granularity.Hour, Hour, Hour.AddHours(1)));
    }

    [Fact]
    public async Task A_window_the_consumer_has_not_finished_is_left_for_the_consumer()
    {
        await WriteLogAsync(Enumerable.Range(0, 50).Select(i => Click(i)));
        using var store = await AggregateLiveAsync(keep: (_, _) => false, positionShortfall: 3);

        var report = await Reconciler(store).ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Unsettled, report.Status);
        Assert.Equal(0, await TotalClicksAsync(store, "ad-1", Granularity.Hour, Hour, Hour.AddHours(1)));
    }

    [Fact]
    public async Task A_deleted_segment_is_reported_as_a_gap_with_its_partition_and_sequence_range()
    {
        // Wide referrer hosts make the events big enough to fill three 1 MB segments per partition.
        var padding = new string('r', 900);
        await WriteLogAsync(Enumerable.Range(0, 7000).Select(i => Click(i) with { ReferrerHost = padding }), segmentBytes: 1024 * 1024);
        using var store = await AggregateLiveAsync();
        var segments = LocalLogRawSource.Segments(Path.Combine(LogDirectory, "000"));
        Assert.True(segments.Count >= 3, $"{segments.Count} segments");
        File.Delete(segments[1].Path);

        var report = await Reconciler(store).ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Gaps, report.Status);
        var gap = Assert.Single(report.Gaps);
        Assert.Equal(new SequenceGap("0", segments[1].First, segments[2].First - 1, segments[2].Path), gap);
    }

    [Fact]
    public async Task A_torn_tail_of_the_newest_segment_is_its_end_but_a_torn_sealed_segment_is_unreadable()
    {
        var padding = new string('r', 900);
        await WriteLogAsync(Enumerable.Range(0, 5000).Select(i => Click(i) with { ReferrerHost = padding }), segmentBytes: 1024 * 1024);
        using var store = await AggregateLiveAsync();
        var segments = LocalLogRawSource.Segments(Path.Combine(LogDirectory, "001"));
        await File.AppendAllTextAsync(segments[^1].Path, "half a block", Ct);

        var tornTail = await Reconciler(store).ReconcileAsync(From, To, Ct);
        await using (var sealedSegment = new FileStream(segments[0].Path, FileMode.Open, FileAccess.Write))
        {
            sealedSegment.SetLength(sealedSegment.Length - 100);
        }
        var tornSealed = await Reconciler(store).ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Matched, tornTail.Status);
        Assert.Equal(5000, tornTail.EventsRead);
        Assert.Equal(ReconcileStatus.Unreadable, tornSealed.Status);
        Assert.Contains(segments[0].Path, tornSealed.Message, StringComparison.Ordinal);
    }

    private string StorePath => Path.Combine(_directory, ClickStoreOptions.FileName);

    private StoreRebuild Rebuild(DuckDbClickStore store)
    {
        var reports = new ReconcileReports(Path.Combine(_directory, ReconcileReports.DirectoryName), _time);
        return new StoreRebuild(new LocalLogRawSource(LogDirectory), reports,
            new EmbeddedReconciliation(Reconciler(store), reports, NullLogger<EmbeddedReconciliation>.Instance), Horizon, _time);
    }

    [Fact]
    public async Task An_empty_store_rebuilt_from_the_whole_log_gets_counts_claims_and_positions_at_the_log_end()
    {
        await WriteLogAsync(Enumerable.Range(0, 100).Select(i => Click(i)).Append(Click(7, "imp-7")));
        // A crashed earlier rebuild left a half-written file behind: it is discarded, never renamed into place.
        await File.WriteAllTextAsync(StorePath + StoreRebuild.TemporarySuffix, "torn", Ct);
        var options = new ClickStoreOptions { Path = StorePath };
        var empty = new DuckDbClickStore(options);
        Assert.True(empty.IsEmpty());

        var result = await Rebuild(empty).RunAsync(empty, options, From, To, Ct);

        Assert.Equal(RebuildOutcome.Rebuilt, result.Outcome);
        Assert.Throws<ObjectDisposedException>(() => empty.LoadPositions()); // the empty store was closed before its file was replaced
        Assert.False(File.Exists(StorePath + StoreRebuild.TemporarySuffix));
        using var store = new DuckDbClickStore(options);
        Assert.False(store.IsEmpty());
        Assert.Equal(20, await TotalClicksAsync(store, "ad-2", Granularity.Minute, T.AddMinutes(-1).AddSeconds(-30), T.AddMinutes(1).AddSeconds(-30)));
        var positions = store.LoadPositions();
        Assert.Equal(101, positions.Values.Sum());
        Assert.Equal(100, store.LoadClaims(T.AddHours(-1)).Count);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Rebuild(store).RunAsync(store, options, From, To, Ct));
        Assert.Equal(ReconcileStatus.Matched, (await Reconciler(store).ReconcileAsync(From, To, Ct)).Status);
    }

    [Fact]
    public async Task An_ad_signed_under_two_campaigns_reconciles_as_matched_and_queries_answer_the_ads_sum()
    {
        // The core bucket key includes the campaign; the store keys rows by it too (issue 13, finding 2), so the
        // recount and the store compare the same buckets.
        await WriteLogAsync(Enumerable.Range(0, 40).Select(i => Click(i) with { AdId = "ad-x", CampaignId = i % 2 == 0 ? "cmp-1" : "cmp-2" }));
        using var store = await AggregateLiveAsync();

        var first = await Reconciler(store).ReconcileAsync(From, To, Ct);
        var second = await Reconciler(store).ReconcileAsync(From, To, Ct);

        Assert.Equal(ReconcileStatus.Matched, first.Status);
        Assert.Equal(0, first.AbsoluteClickDifference);
        Assert.Equal(ReconcileStatus.Matched, second.Status);
        Assert.Equal(40, await TotalClicksAsync(store, "ad-x", Granularity.Day, Hour.AddHours(-12), Hour.AddHours(12)));
        var listing = await store.ListAdsAsync(new AdvertiserAdsQuery("adv-1", new TimeRange(Hour.AddHours(-1), Hour.AddHours(1))), Ct);
        Assert.Equal([new AdTotals("ad-x", "cmp-1", 20, 0), new AdTotals("ad-x", "cmp-2", 20, 0)], listing.Ads);
    }

    [Fact]
    public async Task The_periodic_reconciler_runs_the_due_window_each_interval_and_writes_a_json_report()
    {
        await WriteLogAsync(Enumerable.Range(0, 20).Select(i => Click(i)));
        using var store = await AggregateLiveAsync();
        var options = LocalOptions();
        options.Interval = TimeSpan.FromMinutes(1);
        var reports = new ReconcileReports(Path.Combine(_directory, ReconcileReports.DirectoryName), _time);
        var reconciliation = new EmbeddedReconciliation(
            new Reconciler(new LocalLogRawSource(LogDirectory), new DuckDbBucketCorrections(store), options, Horizon, _time), reports, NullLogger<EmbeddedReconciliation>.Instance);
        using var periodic = new PeriodicReconciler(reconciliation, Options.Create(options), _time, NullLogger<PeriodicReconciler>.Instance);

        await periodic.StartAsync(Ct);
        Assert.False(Directory.Exists(reports.Directory) && Directory.EnumerateFiles(reports.Directory).Any());
        for (int i = 0; i < 200 && periodic.Runs < 1; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(20, Ct);
        }
        await periodic.StopAsync(Ct);

        Assert.True(periodic.Runs >= 1);
        string file = Assert.Single(Directory.GetFiles(reports.Directory, "reconcile-*.json").Take(1));
        using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(file, Ct));
        Assert.True(json.RootElement.TryGetProperty("keysCompared", out _));
        Assert.True(json.RootElement.TryGetProperty("absoluteClickDifference", out _));
    }

    [Fact]
    public async Task After_its_run_the_periodic_reconciler_compacts_the_closed_days_reconciliation_confirmed()
    {
        await WriteLogAsync(Enumerable.Range(0, 20).Select(i => Click(i)));
        using var store = await AggregateLiveAsync();
        // The day before holds clicks too, confirmed through its end; the clicks' own day is still open.
        var earlier = new BucketCounts();
        earlier.Add(ClickReason.Valid, 3);
        store.Commit(new StoreBatch(new Dictionary<BucketKey, BucketCounts> { [new BucketKey("adv-1", "cmp-1", "ad-1", Hour.AddDays(-1))] = earlier }, [], [], new Dictionary<int, long>()));
        store.MarkReconciledThrough(new DateTimeOffset(Hour.Date, TimeSpan.Zero));
        long yesterday = Hour.AddDays(-1).ToUnixTimeSeconds() / 86_400, today = Hour.ToUnixTimeSeconds() / 86_400;
        var options = LocalOptions();
        options.Interval = TimeSpan.FromMinutes(1);
        var reconciliation = new EmbeddedReconciliation(
            new Reconciler(new LocalLogRawSource(LogDirectory), new DuckDbBucketCorrections(store), options, Horizon, _time),
            new ReconcileReports(Path.Combine(_directory, ReconcileReports.DirectoryName), _time), NullLogger<EmbeddedReconciliation>.Instance);
        using var periodic = new PeriodicReconciler(reconciliation, Options.Create(options), _time, NullLogger<PeriodicReconciler>.Instance, store: store);
        Assert.False(store.IsCompacted(yesterday));

        await periodic.StartAsync(Ct);
        for (int i = 0; i < 200 && periodic.Runs < 1; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(20, Ct);
        }
        await periodic.StopAsync(Ct);

        Assert.True(periodic.Runs >= 1);
        Assert.True(store.IsCompacted(yesterday));
        Assert.False(store.IsCompacted(today));
        Assert.Equal(3, await TotalClicksAsync(store, "ad-1", Granularity.Hour, Hour.AddDays(-1), Hour.AddDays(-1).AddHours(1)));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
