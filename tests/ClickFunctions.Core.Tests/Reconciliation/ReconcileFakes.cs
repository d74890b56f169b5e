using System.Runtime.CompilerServices;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Tests.Reconciliation;

/// <summary>Raw files held in memory, returned in the order given (tests control file boundaries and holes).</summary>
public sealed class MemoryRawSource : IRawEventSource
{
    public List<RawEventFile> Files { get; } = [];

    public int Reads { get; private set; }

    public Exception? Failure { get; set; }

    public async IAsyncEnumerable<RawEventFile> ReadAsync(DateTimeOffset enqueuedFrom, DateTimeOffset enqueuedTo, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Reads++;
        await Task.Yield();
        if (Failure is not null)
        {
            throw Failure;
        }
        foreach (var file in Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Like Capture blobs: a file is returned whole when any of its events is in the range.
            if (file.Events.Count == 0 || file.Events.Any(e => e.EnqueuedTime >= enqueuedFrom && e.EnqueuedTime < enqueuedTo))
            {
                yield return file;
            }
        }
    }
}

/// <summary>A store of minute buckets in memory that applies correction deltas additively, as the real stores do.</summary>
public sealed class MemoryBucketStore : IBucketCorrections
{
    public Dictionary<BucketKey, BucketCounts> Buckets { get; } = [];

    public List<BucketCorrectionBatch> Writes { get; } = [];

    public Dictionary<string, long>? ConsumedUpTo { get; set; }

    public void Add(BucketKey key, BucketCounts counts)
    {
        if (!Buckets.TryGetValue(key, out var existing))
        {
            existing = new BucketCounts();
            Buckets.Add(key, existing);
        }
        existing.Add(counts);
    }

    public ValueTask<StoredBuckets> ReadAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken)
    {
        var copy = Buckets.Where(b => b.Key.Minute >= windowStart && b.Key.Minute < windowEnd)
            .ToDictionary(b => b.Key, b => Copy(b.Value));
        return ValueTask.FromResult(new StoredBuckets(copy, ConsumedUpTo));
    }

    public ValueTask WriteAsync(BucketCorrectionBatch batch, CancellationToken cancellationToken)
    {
        Writes.Add(batch);
        foreach (var correction in batch.Corrections)
        {
            Add(correction.Key, correction.Delta);
        }
        return ValueTask.CompletedTask;
    }

    public static BucketCounts Copy(BucketCounts counts)
    {
        var copy = new BucketCounts();
        copy.Add(counts);
        return copy;
    }
}

public static class TestClicks
{
    public const string Advertiser = "adv-1";
    public const string Campaign = "cmp-1";

    public static ClickEvent Click(string impression, DateTimeOffset at, ClickReason reason = ClickReason.Valid, string ad = "ad-1") => new(
        ClickId.FromImpression(Advertiser, ad, impression), at, ad, Advertiser, Campaign, reason, "", "203.0.113.0", new Fingerprint(7));

    public static RawEvent Raw(ClickEvent click, long sequence, string partition = "0", DateTimeOffset? enqueued = null) =>
        new(partition, sequence, enqueued ?? click.Timestamp, ClickWireFormat.Encode(click));

    public static BucketKey Key(DateTimeOffset minute, string ad = "ad-1") => new(Advertiser, Campaign, ad, TimeBuckets.FloorToMinute(minute));

    public static BucketCounts Counts(long clicks, long duplicates = 0, long bots = 0)
    {
        var counts = new BucketCounts { Clicks = clicks };
        counts.InvalidByReason[(int)ClickReason.Duplicate] = duplicates;
        counts.InvalidByReason[(int)ClickReason.BotUserAgent] = bots;
        return counts;
    }
}
