using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Retention;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Tests.Operations;

/// <summary>
/// A data directory (log under log/, store clicks.duckdb) built in-process with the real log, store, consumer step,
/// reconciliation and retention, on a fake clock, so tests can place clicks minutes or days apart; the same directory
/// is then read by the real CLI or host.
/// </summary>
public sealed class OfflineDataDirectory : IDisposable
{
    public const string Advertiser = "adv-1";
    private DuckDbClickStore? _store;

    public OfflineDataDirectory(DateTimeOffset start, TimeSpan dedupHorizon, int partitions = 2)
    {
        Time = new FakeTimeProvider(start);
        Horizon = dedupHorizon;
        Partitions = partitions;
    }

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("cf-ops-").FullName;

    public FakeTimeProvider Time { get; }

    public TimeSpan Horizon { get; }

    public int Partitions { get; }

    public string LogDirectory => Path.Combine(Directory, "log");

    public string StorePath => Path.Combine(Directory, ClickStoreOptions.FileName);

    public DuckDbClickStore Store => _store ??= new DuckDbClickStore(new ClickStoreOptions { Path = StorePath });

    public static ClickEvent Click(string ad, string impression, DateTimeOffset at) => new(
        ClickId.FromImpression(Advertiser, ad, impression), at, ad, Advertiser, "cmp-1", ClickReason.Valid, "", "203.0.113.0", default);

    /// <summary>Appends the clicks to the real log, enqueued at the fake clock's time.</summary>
    public async Task AppendAsync(IEnumerable<ClickEvent> clicks, CancellationToken ct)
    {
        using var log = new LocalClickLog(new LocalLogOptions { Directory = LogDirectory, Partitions = Partitions, SegmentBytes = 1024 * 1024 }, Time, NullLoggerFactory.Instance);
        await Task.WhenAll(clicks.Select(c => log.AppendAsync(c, ct).AsTask()));
    }

    public string PartitionDirectory(int partition) => Path.Combine(LogDirectory, partition.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));

    public List<(long First, string Path)> Segments(int partition) => LocalLogRawSource.Segments(PartitionDirectory(partition));

    /// <summary>
    /// What the live consumer commits: every event from the stored position up to (excluding) <paramref name="until"/>
    /// per partition (all of it when absent), aggregated with the claims of earlier steps, in one transaction.
    /// </summary>
    public async Task ConsumeAsync(CancellationToken ct, IReadOnlyDictionary<int, long>? until = null)
    {
        var stored = Store.LoadPositions();
        var claims = new EmbeddedClaimStore(Horizon);
        claims.Load(Store.LoadClaims(DateTimeOffset.MinValue));
        var step = new AggregationStep(claims);
        var events = new List<RawEvent>();
        var positions = new Dictionary<int, long>();
        foreach (int p in LocalClickLog.PartitionsIn(LogDirectory))
        {
            using var reader = LocalClickLog.OpenOfflineReader(LogDirectory, p, stored.GetValueOrDefault(p));
            var read = new List<RawEvent>();
            while (reader.Read(read, 100_000) > 0)
            {
            }
            long limit = until?.GetValueOrDefault(p, long.MaxValue) ?? long.MaxValue;
            events.AddRange(read.Where(e => e.SequenceNumber < limit));
            positions[p] = Math.Min(reader.NextSequence, limit);
        }
        var result = await step.AggregateAsync(events, ct);
        Store.Commit(new StoreBatch(result.Buckets, claims.Pending, result.DeadLetters, positions));
    }

    public EmbeddedReconciliation Reconciliation(TimeSpan? lookback = null)
    {
        var options = new ReconcileOptions();
        EmbeddedReconciliationExtensions.LocalDefaults(options);
        var reconciler = new Reconciler(new LocalLogRawSource(LogDirectory), new DuckDbBucketCorrections(Store), options, Horizon, Time);
        return new EmbeddedReconciliation(reconciler, new ReconcileReports(Path.Combine(Directory, "reconcile"), Time),
            NullLogger<EmbeddedReconciliation>.Instance, new RetainedWindows(Store, LogDirectory, lookback ?? Horizon));
    }

    public RetentionSweep Retention(RetentionOptions options) => new(Store, LogDirectory, options, NullLogger<RetentionSweep>.Instance);

    /// <summary>Closes the store (so the CLI or the host can open the directory).</summary>
    public void CloseStore()
    {
        _store?.Dispose();
        _store = null;
    }

    public void Dispose()
    {
        CloseStore();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
