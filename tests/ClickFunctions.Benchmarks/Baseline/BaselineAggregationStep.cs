using System.Buffers;
using System.Runtime.InteropServices;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Benchmarks.Baseline;

/// <summary>
/// The aggregation step as it was before decision 097 (main at 08be408, with decisions 093 and 096), kept only as the
/// benchmark's baseline so the old and the new implementation run side by side in one BenchmarkDotNet run: a
/// <see cref="Utf8StringPool"/> per batch, a <see cref="ClickEvent"/> per event, unsized dictionaries, and per bucket
/// a reason array, a dimension dictionary and a <see cref="DimensionCount"/> per value. Same decode, dedup and
/// bucketing; the flood rule is left out (the benchmark runs without it). Not used by any host.
/// </summary>
public sealed class BaselineAggregationStep(IClaimStore claims)
{
    public async ValueTask<Dictionary<BucketKey, BaselineBucketCounts>> AggregateAsync(IReadOnlyList<RawEvent> batch, CancellationToken cancellationToken)
    {
        var buckets = new Dictionary<BucketKey, BaselineBucketCounts>();
        var deadLetters = new List<DeadLetter>();
        var decoded = ArrayPool<ClickEvent>.Shared.Rent(batch.Count);
        var requests = ArrayPool<ClaimRequest>.Shared.Rent(batch.Count);
        var outcomes = ArrayPool<ClaimOutcome>.Shared.Rent(batch.Count);
        var claimOf = ArrayPool<int>.Shared.Rent(batch.Count);
        try
        {
            var firstInBatch = new Dictionary<ClickId, int>(batch.Count);
            var strings = new Utf8StringPool();
            int claimCount = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                var raw = batch[i];
                ClickEvent click;
                try
                {
                    click = ClickWireFormat.Decode(raw.Body.Span, strings);
                }
                catch (FormatException e)
                {
                    deadLetters.Add(new DeadLetter(raw, e.Message));
                    decoded[i] = null!;
                    claimOf[i] = -1;
                    continue;
                }
                decoded[i] = click;
                claimOf[i] = -1;
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
                    var click = decoded[i];
                    if (click is null)
                    {
                        continue;
                    }
                    var reason = click.Reason;
                    if (click.IsValid && (claimOf[i] >= 0 ? outcomes[claimOf[i]] : ClaimOutcome.Duplicate) == ClaimOutcome.Duplicate)
                    {
                        reason = ClickReason.Duplicate;
                    }
                    reasons[i] = reason;
                }
                for (int i = 0; i < batch.Count; i++)
                {
                    var click = decoded[i];
                    if (click is null)
                    {
                        continue;
                    }
                    var key = new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute);
                    ref var counts = ref CollectionsMarshal.GetValueRefOrAddDefault(buckets, key, out _);
                    counts ??= new BaselineBucketCounts();
                    counts.Add(reasons[i], click);
                }
            }
            finally
            {
                ArrayPool<ClickReason>.Shared.Return(reasons);
            }
            return buckets;
        }
        finally
        {
            Array.Clear(decoded, 0, batch.Count);
            ArrayPool<ClickEvent>.Shared.Return(decoded);
            ArrayPool<ClaimRequest>.Shared.Return(requests);
            ArrayPool<ClaimOutcome>.Shared.Return(outcomes);
            ArrayPool<int>.Shared.Return(claimOf);
        }
    }
}

/// <summary>A bucket's counts as they were before decision 097: the benchmark's baseline only.</summary>
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
