using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Reconciliation;

/// <summary>
/// Reconciles a closed window [from, to): recounts it exactly from the raw files (<see cref="ClickRecount"/>),
/// audits the files' sequence numbers, reads the store's minute buckets for the same keys and writes correction
/// deltas so the store equals the recount. A second run over the same window finds nothing to correct and writes
/// nothing. Nothing is written when the raw data has gaps, cannot be read, or the store's consumer has not yet
/// counted the whole window (see docs/decisions/030-reconciliation-recount-and-corrections.md).
/// </summary>
public sealed class Reconciler(
    IRawEventSource source,
    IBucketCorrections store,
    ReconcileOptions options,
    TimeSpan dedupHorizon,
    TimeProvider time,
    ReconcileMetrics? metrics = null,
    FloodRule? flood = null)
{
    private readonly FloodRule _flood = flood ?? FloodRule.Off;

    /// <summary>The end of the newest closed window: the minute before which every event is surely in the raw files.</summary>
    public DateTimeOffset LatestClosedMinute() =>
        TimeBuckets.FloorToMinute(time.GetUtcNow() - options.CaptureWindow - options.AllowedLateness);

    /// <summary>The window a periodic run reconciles: <see cref="ReconcileOptions.Span"/> ending at <see cref="LatestClosedMinute"/>.</summary>
    public (DateTimeOffset From, DateTimeOffset To) DueWindow()
    {
        var to = LatestClosedMinute();
        return (TimeBuckets.FloorToMinute(to - options.Span), to);
    }

    /// <summary>The enqueued-time range whose raw events a recount of [from, to) reads.</summary>
    /// <remarks>With flood detection the lookback grows by one flood window, so the slots taken by the window's first
    /// clicks before <paramref name="from"/> are taken in the recount too.</remarks>
    public (DateTimeOffset From, DateTimeOffset To) ReadRange(DateTimeOffset from, DateTimeOffset to) =>
        (from - (options.DedupLookback ?? dedupHorizon) - (_flood.Enabled ? _flood.Window : TimeSpan.Zero), to + options.AllowedLateness);

    public static void ValidateWindow(DateTimeOffset from, DateTimeOffset to)
    {
        if (from.UtcTicks % TimeSpan.TicksPerMinute != 0 || to.UtcTicks % TimeSpan.TicksPerMinute != 0)
        {
            throw new ArgumentException($"A reconciliation window must start and end on whole UTC minutes; got [{from:O}, {to:O}).");
        }
        if (from >= to)
        {
            throw new ArgumentException($"A reconciliation window must end after it starts; got [{from:O}, {to:O}).");
        }
    }

    /// <summary>Recounts [from, to) from the raw files, without comparing or writing (disaster recovery uses it directly).</summary>
    public Task<RecountResult> RecountAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ValidateWindow(from, to);
        var (readFrom, readTo) = ReadRange(from, to);
        return ClickRecount.RunAsync(source.ReadAsync(readFrom, readTo, cancellationToken), from, to, dedupHorizon, _flood, cancellationToken);
    }

    public async Task<ReconcileReport> ReconcileAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ValidateWindow(from, to);
        long started = time.GetTimestamp();
        var (readFrom, readTo) = ReadRange(from, to);
        var report = new ReconcileReport { From = from, To = to, Status = ReconcileStatus.WindowOpen, ReadFrom = readFrom, ReadTo = readTo };
        var closed = LatestClosedMinute();
        if (to > closed)
        {
            return Finish(report with
            {
                Message = string.Create(CultureInfo.InvariantCulture,
                    $"the window is not closed: raw events may still arrive until {to + options.CaptureWindow + options.AllowedLateness:O} (Reconcile:CaptureWindow + Reconcile:AllowedLateness after its end)"),
            }, started);
        }

        // The store first, then the raw files: an event the store's consumer counts after this snapshot is past its
        // snapshot position, which the settledness check below sees. A sharded store (ADX) gives totals per shard of
        // ads here, and per-ad rows only of the shards that differ from the recount (below).
        var sharded = store as IShardedBucketCorrections;
        StoredBuckets? stored = null;
        StoredShards? shards = null;
        if (sharded is not null)
        {
            shards = await sharded.ReadShardTotalsAsync(from, to, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            stored = await store.ReadAsync(from, to, cancellationToken).ConfigureAwait(false);
        }
        RecountResult recount;
        try
        {
            recount = await RecountAsync(from, to, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return Finish(report with { Status = ReconcileStatus.Unreadable, Message = "raw data could not be read: " + e.Message }, started);
        }
        report = report.WithRecount(recount);
        if (recount.Gaps.Count > 0)
        {
            long missing = recount.Gaps.Sum(g => g.Missing);
            return Finish(report with
            {
                Status = ReconcileStatus.Gaps,
                Message = string.Create(CultureInfo.InvariantCulture,
                    $"{missing} sequence numbers are missing from the raw files ({string.Join("; ", recount.Gaps.Take(5).Select(g => $"partition {g.Partition}: {g.FirstMissing}..{g.LastMissing} before {g.File}"))}); nothing corrected, a recount would count less than happened"),
            }, started);
        }
        if ((shards?.ConsumedUpTo ?? stored?.ConsumedUpTo) is { } consumed &&
            recount.LastWindowSequence.FirstOrDefault(p => p.Value >= consumed.GetValueOrDefault(p.Key)) is { Key: not null } behind)
        {
            return Finish(report with
            {
                Status = ReconcileStatus.Unsettled,
                Message = string.Create(CultureInfo.InvariantCulture,
                    $"the store has counted partition {behind.Key} up to sequence {consumed.GetValueOrDefault(behind.Key)} but the window has events up to {behind.Value}; nothing corrected, run again once the consumer caught up"),
            }, started);
        }

        IReadOnlyDictionary<BucketKey, BucketCounts> storedBuckets, recounted;
        long maxRows;
        int matchedKeys = 0;
        if (sharded is not null && shards is not null)
        {
            // Compare totals per shard; read and diff per-ad rows only where a shard differs.
            var recountTotals = BucketShards.Totals(recount.Buckets, from);
            var expected = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (string shard in recountTotals.Keys.Union(shards.Totals.Keys))
            {
                var want = recountTotals.GetValueOrDefault(shard);
                var have = shards.Totals.GetValueOrDefault(shard);
                if (want != have)
                {
                    expected[shard] = Math.Max(want.Buckets, have.Buckets);
                }
                else
                {
                    matchedKeys += (int)want.Buckets;
                }
            }
            var (read, maxRead) = expected.Count == 0
                ? (new Dictionary<BucketKey, BucketCounts>(), 0L)
                : await sharded.ReadShardsAsync(from, to, expected, cancellationToken).ConfigureAwait(false);
            storedBuckets = read;
            recounted = recount.Buckets.Where(b => expected.ContainsKey(BucketShards.Of(b.Key))).ToDictionary(b => b.Key, b => b.Value);
            maxRows = Math.Max(shards.Totals.Count, maxRead);
            report = report with { ShardsCompared = recountTotals.Count + shards.Totals.Keys.Count(k => !recountTotals.ContainsKey(k)), ShardsRead = expected.Count };
        }
        else
        {
            storedBuckets = stored!.Buckets;
            recounted = recount.Buckets;
            maxRows = stored.Buckets.Count;
        }
        report = report with { MaxRowsPerRead = maxRows };

        var corrections = Diff(from, to, storedBuckets, recounted, out int compared);
        if (corrections.Count > 0)
        {
            await store.WriteAsync(new BucketCorrectionBatch(from, to, corrections) { Recounted = recounted }, cancellationToken).ConfigureAwait(false);
        }
        return Finish(report with
        {
            Status = corrections.Count > 0 ? ReconcileStatus.Corrected : ReconcileStatus.Matched,
            KeysCompared = compared + matchedKeys,
            KeysCorrected = corrections.Count,
            AbsoluteClickDifference = corrections.Sum(c => Math.Abs(c.Delta.Clicks)),
            AbsoluteInvalidClickDifference = corrections.Sum(c => c.Delta.InvalidByReason.Sum(Math.Abs)),
            Corrections = [.. corrections.Take(ReconcileReport.MaxListedCorrections).Select(c => new CorrectionSummary(
                c.Key.AdvertiserId, c.Key.CampaignId, c.Key.AdId, c.Key.Minute,
                c.Stored.Clicks, c.Recounted.Clicks, c.Stored.InvalidClicks, c.Recounted.InvalidClicks))],
        }, started);
    }

    /// <summary>One correction per key whose stored counts differ from the recount, in a stable order.</summary>
    public static List<BucketCorrection> Diff(
        DateTimeOffset from,
        DateTimeOffset to,
        IReadOnlyDictionary<BucketKey, BucketCounts> stored,
        IReadOnlyDictionary<BucketKey, BucketCounts> recounted,
        out int keysCompared)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(recounted);
        var keys = new HashSet<BucketKey>(stored.Keys);
        keys.UnionWith(recounted.Keys);
        keysCompared = keys.Count;
        var corrections = new List<BucketCorrection>();
        var empty = new BucketCounts();
        foreach (var key in keys.OrderBy(k => k.Minute).ThenBy(k => k.AdvertiserId, StringComparer.Ordinal)
                     .ThenBy(k => k.AdId, StringComparer.Ordinal).ThenBy(k => k.CampaignId, StringComparer.Ordinal))
        {
            var have = stored.GetValueOrDefault(key) ?? empty;
            var want = recounted.GetValueOrDefault(key) ?? empty;
            var delta = new BucketCounts { Clicks = want.Clicks - have.Clicks };
            for (int i = 0; i < BucketCounts.ReasonSlots; i++)
            {
                delta.InvalidByReason[i] = want.InvalidByReason[i] - have.InvalidByReason[i];
            }
            if (!delta.IsZero)
            {
                corrections.Add(new BucketCorrection(key, have, want, delta, RowId(from, to, key, have, want)));
            }
        }
        return corrections;
    }

    /// <summary>Deterministic in everything the correction depends on, so writing it again is recognisably the same row.</summary>
    public static string RowId(DateTimeOffset from, DateTimeOffset to, BucketKey key, BucketCounts stored, BucketCounts recounted)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(recounted);
        var text = new StringBuilder("cf-correction-v1\n");
        text.Append(CultureInfo.InvariantCulture, $"{from.UtcTicks}\n{to.UtcTicks}\n{key.AdvertiserId}\n{key.CampaignId}\n{key.AdId}\n{key.Minute.UtcTicks}\n{stored.Clicks}");
        foreach (long n in stored.InvalidByReason)
        {
            text.Append(CultureInfo.InvariantCulture, $",{n}");
        }
        text.Append(CultureInfo.InvariantCulture, $"\n{recounted.Clicks}");
        foreach (long n in recounted.InvalidByReason)
        {
            text.Append(CultureInfo.InvariantCulture, $",{n}");
        }
        return "corr-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 16));
    }

    private ReconcileReport Finish(ReconcileReport report, long started)
    {
        var done = report with { DurationMs = time.GetElapsedTime(started).TotalMilliseconds };
        metrics?.Record(done);
        return done;
    }
}
