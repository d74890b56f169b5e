using System.Buffers;
using System.Runtime.InteropServices;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Aggregation;

/// <summary>
/// The aggregation step both hosts run on a batch of raw events: decode (malformed events are dead-lettered, never
/// failing the batch), dedup valid clicks through the claim store (a repeat within the batch or a claim by another
/// event is a duplicate, counted invalid with reason <c>duplicate</c>), and count per-minute buckets.
/// Invalid clicks are counted under their own reason and need no claim. With a <see cref="FloodRule"/>, counted
/// clicks past the rule's limit for their (ad, fingerprint, flood window) become <c>click_flooding</c>.
/// </summary>
public sealed class AggregationStep(IClaimStore claims, FloodRule? flood = null)
{
    private readonly FloodRule _flood = flood ?? FloodRule.Off;

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
            List<int>? counted = _flood.Enabled ? [] : null;
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
                if (click.IsValid)
                {
                    var outcome = claimOf[i] >= 0 ? outcomes[claimOf[i]] : ClaimOutcome.Duplicate;
                    if (outcome == ClaimOutcome.Duplicate)
                    {
                        reason = ClickReason.Duplicate;
                        result.Duplicates++;
                    }
                    else
                    {
                        if (outcome == ClaimOutcome.ClaimedBefore)
                        {
                            result.Redelivered++;
                        }
                        counted?.Add(i);
                    }
                }
                reasons[i] = reason;
            }
            if (counted is { Count: > 0 })
            {
                await MarkFloodingAsync(batch, decoded, counted, reasons, cancellationToken).ConfigureAwait(false);
            }
            for (int i = 0; i < batch.Count; i++)
            {
                var click = decoded[i];
                if (click is null)
                {
                    continue;
                }
                var reason = reasons[i];
                var key = new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute);
                ref var counts = ref CollectionsMarshal.GetValueRefOrAddDefault(result.Buckets, key, out _);
                counts ??= new BucketCounts();
                counts.Add(reason, click);
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
            Array.Clear(decoded, 0, batch.Count);
            ArrayPool<ClickEvent>.Shared.Return(decoded);
            ArrayPool<ClaimRequest>.Shared.Return(requests);
            ArrayPool<ClaimOutcome>.Shared.Return(outcomes);
            ArrayPool<int>.Shared.Return(claimOf);
        }
    }

    /// <summary>
    /// Gives each counted click the lowest free flood slot of its (ad, fingerprint, window), in batch order, one slot
    /// per group and round (so the outcome is the sequential one, independent of how events are batched); clicks left
    /// without a slot are <c>click_flooding</c>. A redelivered event finds its own slot again (ClaimedBefore).
    /// </summary>
    private async ValueTask MarkFloodingAsync(IReadOnlyList<RawEvent> batch, ClickEvent[] decoded, List<int> counted, ClickReason[] reasons, CancellationToken cancellationToken)
    {
        var groups = new Dictionary<(string Ad, Fingerprint Fingerprint, DateTimeOffset Window), FloodGroup>();
        foreach (int i in counted)
        {
            var click = decoded[i];
            var key = (click.AdId, click.Fingerprint, _flood.WindowStart(click.Timestamp));
            if (!groups.TryGetValue(key, out var group))
            {
                group = new FloodGroup(key.AdId, key.Fingerprint, key.Item3);
                groups.Add(key, group);
            }
            group.Pending.Enqueue(i);
        }
        var active = groups.Values.ToList();
        var requests = new List<ClaimRequest>(active.Count);
        var asking = new List<FloodGroup>(active.Count);
        while (active.Count > 0)
        {
            requests.Clear();
            asking.Clear();
            foreach (var group in active)
            {
                int i = group.Pending.Peek();
                var raw = batch[i];
                requests.Add(new ClaimRequest(FloodRule.SlotId(group.Ad, group.Fingerprint, group.Window, group.NextSlot), group.Window, raw.Partition, raw.SequenceNumber));
                asking.Add(group);
            }
            var outcomes = new ClaimOutcome[requests.Count];
            await claims.ClaimAsync(requests.ToArray(), outcomes, cancellationToken).ConfigureAwait(false);
            active.Clear();
            for (int k = 0; k < asking.Count; k++)
            {
                var group = asking[k];
                group.NextSlot++;
                if (outcomes[k] != ClaimOutcome.Duplicate)
                {
                    group.Pending.Dequeue(); // the click holds this slot: it counts
                }
                if (group.NextSlot > _flood.MaxClicks)
                {
                    while (group.Pending.TryDequeue(out int flooding))
                    {
                        reasons[flooding] = ClickReason.ClickFlooding;
                    }
                }
                if (group.Pending.Count > 0)
                {
                    active.Add(group);
                }
            }
        }
    }

    private sealed class FloodGroup(string ad, Fingerprint fingerprint, DateTimeOffset window)
    {
        public string Ad { get; } = ad;

        public Fingerprint Fingerprint { get; } = fingerprint;

        public DateTimeOffset Window { get; } = window;

        public int NextSlot { get; set; } = 1;

        public Queue<int> Pending { get; } = new();
    }
}
