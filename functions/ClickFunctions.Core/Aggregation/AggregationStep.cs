using System.Buffers;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Aggregation;

/// <summary>
/// The aggregation step both hosts run on a batch of raw events: decode (malformed events are dead-lettered, never
/// failing the batch), dedup valid clicks through the claim store (a repeat within the batch or a claim by another
/// event is a duplicate, counted invalid with reason <c>duplicate</c>), and count per-minute buckets.
/// Invalid clicks are counted under their own reason and need no claim.
/// </summary>
public sealed class AggregationStep(IClaimStore claims)
{
    public async ValueTask<AggregationResult> AggregateAsync(IReadOnlyList<RawEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var result = new AggregationResult { Events = batch.Count };
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
                    result.DeadLetters.Add(new DeadLetter(raw, e.Message));
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
                    claimOf[i] = -2; // a repeat inside this batch
                }
            }
            if (claimCount > 0)
            {
                await claims.ClaimAsync(requests.AsMemory(0, claimCount), outcomes.AsMemory(0, claimCount), cancellationToken).ConfigureAwait(false);
            }
            for (int i = 0; i < batch.Count; i++)
            {
                var click = decoded[i];
                if (click is null)
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
                var key = new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute);
                if (!result.Buckets.TryGetValue(key, out var counts))
                {
                    counts = new BucketCounts();
                    result.Buckets.Add(key, counts);
                }
                counts.Add(reason, click);
            }
            return result;
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
