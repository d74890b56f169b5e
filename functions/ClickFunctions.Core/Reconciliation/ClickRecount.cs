using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Reconciliation;

/// <summary>What an exact recount of [<see cref="From"/>, <see cref="To"/>) found in the raw files.</summary>
public sealed class RecountResult
{
    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    /// <summary>Minute buckets of the window only (the lookback before it only rebuilds claims).</summary>
    public Dictionary<BucketKey, BucketCounts> Buckets { get; } = [];

    /// <summary>The latest claim per click id after every event read (what a rebuilt store must remember).</summary>
    public IReadOnlyDictionary<ClickId, Claim> Claims { get; set; } = new Dictionary<ClickId, Claim>();

    public IReadOnlyList<SequenceGap> Gaps { get; set; } = [];

    public IReadOnlyList<PartitionRange> Partitions { get; set; } = [];

    /// <summary>Per partition, the sequence number after the last one read.</summary>
    public IReadOnlyDictionary<string, long> NextSequences { get; set; } = new Dictionary<string, long>();

    /// <summary>Per partition, the highest sequence number of an event whose click falls in the window.</summary>
    public Dictionary<string, long> LastWindowSequence { get; } = new(StringComparer.Ordinal);

    public long EventsRead { get; set; }

    public long EventsInWindow { get; set; }

    public long Malformed { get; set; }

    /// <summary>The earliest and latest click timestamps read (decodable events), over the whole read.</summary>
    public DateTimeOffset? FirstClick { get; set; }

    public DateTimeOffset? LastClick { get; set; }
}

/// <summary>
/// Recounts a window exactly from raw files: every event goes, in each partition's sequence order (the order the
/// live consumer sees; a click id lives in one partition, so order across partitions does not matter), through the
/// same <see cref="AggregationStep"/> the live path runs, with a fresh claim store; buckets of the window are kept.
/// Events before the window (the dedup lookback) and after it are aggregated too, so that every claim the live path
/// would have seen when it counted a window event is there, whatever order timestamps and sequence numbers are in.
/// </summary>
public static class ClickRecount
{
    /// <summary>Events handed to the aggregation step at once.</summary>
    public const int ChunkEvents = 4096;

    public static Task<RecountResult> RunAsync(IAsyncEnumerable<RawEventFile> files, DateTimeOffset from, DateTimeOffset to, TimeSpan dedupHorizon, CancellationToken cancellationToken) =>
        RunAsync(files, from, to, dedupHorizon, FloodRule.Off, cancellationToken);

    /// <summary>Recounts with the live path's <paramref name="flood"/> rule, so <c>click_flooding</c> is reproduced too.</summary>
    public static async Task<RecountResult> RunAsync(IAsyncEnumerable<RawEventFile> files, DateTimeOffset from, DateTimeOffset to, TimeSpan dedupHorizon, FloodRule flood, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var claims = new InMemoryClaimStore(dedupHorizon);
        var step = new AggregationStep(claims, flood);
        var audit = new SequenceAudit();
        var events = new List<RawEvent>(ChunkEvents);
        var recount = new RecountResult { From = from, To = to, Claims = claims.Claims };
        await foreach (var file in files.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            events.Clear();
            audit.Accept(file, events);
            for (int start = 0; start < events.Count; start += ChunkEvents)
            {
                var chunk = events.GetRange(start, Math.Min(ChunkEvents, events.Count - start));
                Observe(chunk, recount);
                using var result = await step.AggregateAsync(chunk, cancellationToken).ConfigureAwait(false); // added into the recount's own buckets, then back to the step
                recount.Malformed += result.DeadLetters.Count;
                foreach (var (key, counts) in result.Buckets)
                {
                    if (key.Minute < from || key.Minute >= to)
                    {
                        continue;
                    }
                    if (!recount.Buckets.TryGetValue(key, out var total))
                    {
                        total = new BucketCounts();
                        recount.Buckets.Add(key, total);
                    }
                    total.Add(counts);
                }
            }
        }
        recount.Gaps = audit.Gaps;
        recount.Partitions = audit.Ranges;
        recount.NextSequences = audit.NextSequences;
        return recount;
    }

    /// <summary>Counts the events and notes, per partition, the last one whose click is in the window.</summary>
    private static void Observe(List<RawEvent> chunk, RecountResult into)
    {
        foreach (var raw in chunk)
        {
            into.EventsRead++;
            ClickEvent click;
            try
            {
                click = ClickWireFormat.Decode(raw.Body.Span);
            }
            catch (FormatException)
            {
                continue; // the aggregation step dead-letters it and the recount counts it as malformed
            }
            if (into.FirstClick is null || click.Timestamp < into.FirstClick)
            {
                into.FirstClick = click.Timestamp;
            }
            if (into.LastClick is null || click.Timestamp > into.LastClick)
            {
                into.LastClick = click.Timestamp;
            }
            if (click.Minute >= into.From && click.Minute < into.To)
            {
                into.EventsInWindow++;
                if (!into.LastWindowSequence.TryGetValue(raw.Partition, out long last) || raw.SequenceNumber > last)
                {
                    into.LastWindowSequence[raw.Partition] = raw.SequenceNumber;
                }
            }
        }
    }
}
