using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Benchmarks.Baseline;

/// <summary>
/// The aggregation step of main at f744966 (decision 097), kept only as the benchmark's baseline so it and this
/// branch's step run side by side in one BenchmarkDotNet run: in-place decode into pooled <see cref="DecodedClick"/>s
/// with that commit's UTF-16 string pool (<see cref="BaselineDecode"/>), the pool and the repeat check kept across
/// batches, and per new bucket a fresh <see cref="BucketCounts"/> (its
/// reason array and <see cref="DimensionCountCollection"/>) in a fresh, sized result dictionary. Same decode, dedup
/// and bucketing; the flood rule is left out (the benchmark runs without it). Not used by any host.
/// </summary>
public sealed class BaselineAggregationStep(IClaimStore claims)
{
    private readonly ConcurrentBag<Scratch> _scratch = [];
    private double _bucketsPerEvent;

    public async ValueTask<AggregationResult> AggregateAsync(IReadOnlyList<RawEvent> batch, CancellationToken cancellationToken)
    {
        int expected = (int)Math.Min(batch.Count, Math.Ceiling(batch.Count * Volatile.Read(ref _bucketsPerEvent)));
        var result = new AggregationResult(expected) { Events = batch.Count };
        var decoded = ArrayPool<DecodedClick>.Shared.Rent(batch.Count);
        var requests = ArrayPool<ClaimRequest>.Shared.Rent(batch.Count);
        var outcomes = ArrayPool<ClaimOutcome>.Shared.Rent(batch.Count);
        var claimOf = ArrayPool<int>.Shared.Rent(batch.Count);
        var scratch = _scratch.TryTake(out var idle) ? idle : new Scratch();
        try
        {
            var firstInBatch = scratch.FirstInBatch;
            firstInBatch.EnsureCapacity(batch.Count);
            int claimCount = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                var raw = batch[i];
                ref var click = ref decoded[i];
                claimOf[i] = -1;
                try
                {
                    BaselineDecode.Decode(raw.Body.Span, scratch.Strings, out click);
                }
                catch (FormatException e)
                {
                    result.DeadLetters.Add(new DeadLetter(raw, e.Message));
                    click = default;
                    continue;
                }
                if (!click.IsValid)
                {
                    continue;
                }
                if (firstInBatch.TryAdd(click.ClickId, claimCount))
                {
                    requests[claimCount] = new ClaimRequest(click.ClickId, click.Timestamp, raw.Partition, raw.SequenceNumber);
                    claimOf[i] = claimCount++;
                }
                else
                {
                    claimOf[i] = -2;
                }
            }
            if (claimCount > 0)
            {
                await claims.ClaimAsync(requests.AsMemory(0, claimCount), outcomes.AsMemory(0, claimCount), cancellationToken).ConfigureAwait(false);
            }
            var reasons = ArrayPool<ClickReason>.Shared.Rent(batch.Count);
            try
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    ref readonly var click = ref decoded[i];
                    if (click.AdId is null)
                    {
                        continue;
                    }
                    var reason = click.Reason;
                    if (click.IsValid)
                    {
                        var outcome = claimOf[i] >= 0 ? outcomes[claimOf[i]] : ClaimOutcome.Duplicate;
                        if (outcome == ClaimOutcome.Duplicate)
                        {
                            reason = ClickReason.Duplicate;
                            result.Duplicates++;
                        }
                        else if (outcome == ClaimOutcome.ClaimedBefore)
                        {
                            result.Redelivered++;
                        }
                    }
                    reasons[i] = reason;
                }
                var buckets = result.Buckets;
                for (int i = 0; i < batch.Count; i++)
                {
                    ref readonly var click = ref decoded[i];
                    if (click.AdId is null)
                    {
                        continue;
                    }
                    var key = new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute);
                    ref var counts = ref CollectionsMarshal.GetValueRefOrAddDefault(buckets, key, out _);
                    counts ??= new BucketCounts();
                    counts.Add(reasons[i], in click);
                }
                if (batch.Count > 0)
                {
                    Volatile.Write(ref _bucketsPerEvent, (double)buckets.Count / batch.Count);
                }
            }
            finally
            {
                ArrayPool<ClickReason>.Shared.Return(reasons);
            }
            return result;
        }
        finally
        {
            scratch.FirstInBatch.Clear();
            _scratch.Add(scratch);
            Array.Clear(decoded, 0, batch.Count);
            ArrayPool<DecodedClick>.Shared.Return(decoded);
            ArrayPool<ClaimRequest>.Shared.Return(requests);
            ArrayPool<ClaimOutcome>.Shared.Return(outcomes);
            ArrayPool<int>.Shared.Return(claimOf);
        }
    }

    private sealed class Scratch
    {
        public BaselineUtf8StringPool Strings { get; } = new();

        public Dictionary<ClickId, int> FirstInBatch { get; } = [];
    }
}

/// <summary>A bucket's counts as they were before decision 097 (main at 08be408): `step-phases`' "before" lines only.</summary>
public sealed class BaselineBucketCounts
{
    public long Clicks { get; set; }

    public long[] InvalidByReason { get; } = new long[BucketCounts.ReasonSlots];

    public Dictionary<(ClickDimension Dimension, string Value), DimensionCount>? Dimensions { get; private set; }

    public void Add(ClickReason reason, ClickEvent click)
    {
        if (reason == ClickReason.Valid)
        {
            Clicks++;
        }
        else
        {
            InvalidByReason[(int)reason]++;
        }
        var dimensions = Dimensions ??= new(DimensionCodes.Count);
        long clicks = reason == ClickReason.Valid ? 1 : 0;
        for (int d = 0; d < DimensionCodes.Count; d++)
        {
            var dimension = (ClickDimension)d;
            ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(dimensions, (dimension, DimensionCodes.ValueOf(click, dimension)), out _);
            count ??= new DimensionCount();
            count.Clicks += clicks;
            count.InvalidClicks += 1 - clicks;
        }
    }
}
