using System.Buffers;
using System.Collections.Concurrent;
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
/// <remarks>
/// Decision 097: events decode in place into a pooled array of <see cref="DecodedClick"/> (no event object per
/// click), strings come from pools the step keeps across batches, the bucket dictionary is sized from the buckets
/// per event of the batches before, and a bucket's dimension values are one <see cref="DimensionCountCollection"/>. A
/// singleton that hosts may run on several batches at once: what a batch works in is its own (rented scratch).
/// Decision 102: the buckets are the step's too, reused once the host disposes the result
/// (<see cref="AggregationResult.Dispose"/>); each batch running at once counts into buckets of its own.
/// </remarks>
public sealed class AggregationStep(IClaimStore claims, FloodRule? flood = null)
{
    private readonly FloodRule _flood = flood ?? FloodRule.Off;
    private readonly ConcurrentBag<Scratch> _scratch = [];
    private readonly ConcurrentBag<BucketArena> _arenas = [];
    private double _bucketsPerEvent;

    public async ValueTask<AggregationResult> AggregateAsync(IReadOnlyList<RawEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int expected = (int)Math.Min(batch.Count, Math.Ceiling(batch.Count * Volatile.Read(ref _bucketsPerEvent)));
        var arena = _arenas.TryTake(out var kept) ? kept : new BucketArena(_arenas);
        arena.Buckets.EnsureCapacity(expected);
        var result = new AggregationResult(arena) { Events = batch.Count };
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
                    ClickWireFormat.Decode(raw.Body.Span, scratch.Strings, out click, withIp: false);
                }
                catch (FormatException e)
                {
                    result.DeadLetters.Add(new DeadLetter(raw, e.Message));
                    click = default; // AdId null: not decoded
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
                    claimOf[i] = -2; // a repeat inside this batch
                }
            }
            if (claimCount > 0)
            {
                await claims.ClaimAsync(requests.AsMemory(0, claimCount), outcomes.AsMemory(0, claimCount), cancellationToken).ConfigureAwait(false);
            }
            var buckets = arena.Buckets;
            if (!_flood.Enabled)
            {
                // Without a flood rule each click's reason is final once its claim is known: one pass decides and counts.
                for (int i = 0; i < batch.Count; i++)
                {
                    ref readonly var click = ref decoded[i];
                    if (click.AdId is not null)
                    {
                        Count(buckets, arena, Outcome(in click, claimOf[i], outcomes, result), in click);
                    }
                }
            }
            else
            {
                var counted = new List<int>();
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
                        reasons[i] = Outcome(in click, claimOf[i], outcomes, result);
                        if (click.IsValid && reasons[i] == ClickReason.Valid)
                        {
                            counted.Add(i);
                        }
                    }
                    if (counted.Count > 0)
                    {
                        await MarkFloodingAsync(batch, decoded, counted, reasons, cancellationToken).ConfigureAwait(false);
                    }
                    for (int i = 0; i < batch.Count; i++)
                    {
                        ref readonly var click = ref decoded[i];
                        if (click.AdId is not null)
                        {
                            Count(buckets, arena, reasons[i], in click);
                        }
                    }
                }
                finally
                {
                    ArrayPool<ClickReason>.Shared.Return(reasons);
                }
            }
            if (batch.Count > 0)
            {
                Volatile.Write(ref _bucketsPerEvent, (double)buckets.Count / batch.Count);
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

    /// <summary>
    /// A decoded click's reason once the claims are in: a valid click whose claim says duplicate (or that repeats one
    /// earlier in the batch, <paramref name="claim"/> -2) is a duplicate; a redelivered one still counts.
    /// </summary>
    private static ClickReason Outcome(in DecodedClick click, int claim, ClaimOutcome[] outcomes, AggregationResult result)
    {
        if (!click.IsValid)
        {
            return click.Reason;
        }
        var outcome = claim >= 0 ? outcomes[claim] : ClaimOutcome.Duplicate;
        if (outcome == ClaimOutcome.Duplicate)
        {
            result.Duplicates++;
            return ClickReason.Duplicate;
        }
        if (outcome == ClaimOutcome.ClaimedBefore)
        {
            result.Redelivered++;
        }
        return ClickReason.Valid;
    }

    private static void Count(Dictionary<BucketKey, BucketCounts> buckets, BucketArena arena, ClickReason reason, in DecodedClick click)
    {
        var key = new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute);
        ref var counts = ref CollectionsMarshal.GetValueRefOrAddDefault(buckets, key, out _);
        counts ??= arena.Rent();
        counts.Add(reason, in click);
    }

    /// <summary>
    /// What one batch works in, kept for the step's lifetime and never shared by two batches at once: the string
    /// pool (bounded, <see cref="Utf8StringPool.MaxStrings"/>) and the in-batch repeat check. There are as many as
    /// batches ever ran at once (one for the embedded consumer; one per concurrent invocation in the Azure host).
    /// </summary>
    private sealed class Scratch
    {
        public Utf8StringPool Strings { get; } = new();

        public Dictionary<ClickId, int> FirstInBatch { get; } = [];
    }

    /// <summary>
    /// Gives each counted click the lowest free flood slot of its (ad, fingerprint, window), in batch order, one slot
    /// per group and round (so the outcome is the sequential one, independent of how events are batched); clicks left
    /// without a slot are <c>click_flooding</c>. A redelivered event finds its own slot again (ClaimedBefore).
    /// </summary>
    private async ValueTask MarkFloodingAsync(IReadOnlyList<RawEvent> batch, DecodedClick[] decoded, List<int> counted, ClickReason[] reasons, CancellationToken cancellationToken)
    {
        var groups = new Dictionary<(string Ad, Fingerprint Fingerprint, DateTimeOffset Window), FloodGroup>();
        foreach (int i in counted)
        {
            ref readonly var click = ref decoded[i];
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
