using System.Buffers;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Benchmarks.Baseline;

/// <summary>
/// The aggregation step as it was before decision 093 (git 913840b), kept only as the benchmark's baseline so the old
/// and the new implementation run side by side in one BenchmarkDotNet run. Same decode, dedup and bucketing; the
/// flood rule is left out (the benchmark runs without it). Not used by any host.
/// </summary>
public sealed class BaselineAggregationStep(IClaimStore claims)
{
    public async ValueTask<Dictionary<BaselineBucketKey, BaselineBucketCounts>> AggregateAsync(IReadOnlyList<RawEvent> batch, CancellationToken cancellationToken)
    {
        var buckets = new Dictionary<BaselineBucketKey, BaselineBucketCounts>();
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
                var click = ClickWireFormat.Decode(raw.Body.Span, strings);
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
                    var key = new BaselineBucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute);
                    if (!buckets.TryGetValue(key, out var counts))
                    {
                        counts = new BaselineBucketCounts();
                        buckets.Add(key, counts);
                    }
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

/// <summary>A bucket's counts as they were before decision 093: the benchmark's baseline only.</summary>
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
        Dimensions ??= [];
        foreach (var dimension in DimensionCodes.All)
        {
            string value = DimensionCodes.ValueOf(click, dimension);
            if (!Dimensions.TryGetValue((dimension, value), out var count))
            {
                count = new DimensionCount();
                Dimensions.Add((dimension, value), count);
            }
            count.Clicks += reason == ClickReason.Valid ? 1 : 0;
            count.InvalidClicks += reason == ClickReason.Valid ? 0 : 1;
        }
    }
}

/// <summary>The bucket key as it was before decision 096 (the record's generated equality and hash over all four fields).</summary>
public readonly record struct BaselineBucketKey(string AdvertiserId, string CampaignId, string AdId, DateTimeOffset Minute);
