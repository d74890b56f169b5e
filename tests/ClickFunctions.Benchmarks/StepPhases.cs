using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// `step-phases [rounds]`: where the aggregation step's time and allocation per event go, phase by phase, on the
/// events of <see cref="AggregationStepBenchmark"/> (each row of its table). The phases are the step's own, taken
/// apart: decode and counting into buckets as the step did before decision 097 (a <see cref="ClickEvent"/> per event,
/// a <see cref="Utf8StringPool"/> per batch, a dictionary per bucket) and as it does now (in place, the step's pool,
/// <see cref="DimensionCountCollection"/>), the in-batch repeat check, the claims (a fresh
/// <see cref="InMemoryClaimStore"/> as the benchmark had until decision 097, and the embedded host's
/// <see cref="EmbeddedClaimStore"/> in its steady state, claims committed after every batch as the consumer does);
/// then the whole step as it is now. Times are the median of
/// the rounds; allocation is <see cref="GC.GetAllocatedBytesForCurrentThread"/> around each phase. A profile, not a
/// benchmark: BenchmarkDotNet's AggregationStep run stays the measurement.
/// </summary>
public static class StepPhases
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        Console.WriteLine($"step-phases, {rounds} rounds; load average at start: {Interleaved.LoadAverage()}");
        foreach (int batch in (int[])[1_000, 20_000])
        {
            foreach (int ads in (int[])[1_000, 100_000])
            {
                foreach (bool dims in (bool[])[false, true])
                {
                    var b = new AggregationStepBenchmark { BatchSize = batch, DistinctAds = ads, WithDimensions = dims };
                    b.Setup();
                    Profile($"BatchSize={batch} DistinctAds={ads} WithDimensions={dims}", b, rounds);
                }
            }
        }
        Console.WriteLine($"load average at end: {Interleaved.LoadAverage()}");
        return 0;
    }

    private static void Profile(string name, AggregationStepBenchmark b, int rounds)
    {
        var batches = b.Batches;
        int events = batches.Sum(x => x.Length);
        var phases = new Dictionary<string, (List<double> Ns, List<double> Bytes)>();
        void Record(string phase, long ticks, long bytes)
        {
            if (!phases.TryGetValue(phase, out var lists))
            {
                phases[phase] = lists = ([], []);
            }
            lists.Ns.Add(ticks * (1e9 / Stopwatch.Frequency) / events);
            lists.Bytes.Add((double)bytes / events);
        }
        var embedded = new EmbeddedClaimStore(TimeSpan.FromHours(24));
        var pool = new Utf8StringPool(); // the step's: kept across batches
        var first = new Dictionary<ClickId, int>();
        for (int r = 0; r <= rounds; r++) // round 0 warms up (JIT, the embedded store's capacity)
        {
            var oldDecoded = new ClickEvent[batches.Length][];
            var measure = Measure.Start();
            for (int k = 0; k < batches.Length; k++)
            {
                var strings = new Utf8StringPool();
                var decoded = new ClickEvent[batches[k].Length];
                for (int i = 0; i < decoded.Length; i++)
                {
                    decoded[i] = ClickWireFormat.Decode(batches[k][i].Body.Span, strings);
                }
                oldDecoded[k] = decoded;
            }
            var decodeBefore = measure.Stop();
            measure = Measure.Start();
            foreach (var decoded in oldDecoded)
            {
                var buckets = new Dictionary<BucketKey, Baseline.BaselineBucketCounts>();
                foreach (var click in decoded)
                {
                    ref var counts = ref CollectionsMarshal.GetValueRefOrAddDefault(buckets, new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute), out _);
                    counts ??= new Baseline.BaselineBucketCounts();
                    counts.Add(click.Reason, click);
                }
            }
            var bucketsBefore = measure.Stop();
            oldDecoded = null;
            var decodedBatches = new DecodedClick[batches.Length][];
            measure = Measure.Start();
            for (int k = 0; k < batches.Length; k++)
            {
                var decoded = new DecodedClick[batches[k].Length];
                for (int i = 0; i < decoded.Length; i++)
                {
                    ClickWireFormat.Decode(batches[k][i].Body.Span, pool, out decoded[i], withIp: false);
                }
                decodedBatches[k] = decoded;
            }
            var decode = measure.Stop();
            var requestBatches = new ClaimRequest[batches.Length][];
            for (int k = 0; k < batches.Length; k++)
            {
                requestBatches[k] = new ClaimRequest[batches[k].Length];
            }
            var claimCounts = new int[batches.Length];
            measure = Measure.Start();
            for (int k = 0; k < batches.Length; k++)
            {
                first.EnsureCapacity(batches[k].Length);
                var requests = requestBatches[k];
                int n = 0;
                for (int i = 0; i < batches[k].Length; i++)
                {
                    ref readonly var click = ref decodedBatches[k][i];
                    if (click.IsValid && first.TryAdd(click.ClickId, n))
                    {
                        requests[n++] = new ClaimRequest(click.ClickId, click.Timestamp, batches[k][i].Partition, batches[k][i].SequenceNumber);
                    }
                }
                claimCounts[k] = n;
                first.Clear();
            }
            var repeats = measure.Stop();
            var outcomes = new ClaimOutcome[batches.Max(x => x.Length)];
            var fresh = new InMemoryClaimStore(TimeSpan.FromHours(24));
            measure = Measure.Start();
            for (int k = 0; k < batches.Length; k++)
            {
                fresh.ClaimAsync(requestBatches[k].AsMemory(0, claimCounts[k]), outcomes, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
            var claimsFresh = measure.Stop();
            embedded.Purge(DateTimeOffset.MaxValue); // keeps the dictionary's capacity, as a host's day of claims does
            measure = Measure.Start();
            for (int k = 0; k < batches.Length; k++)
            {
                embedded.ClaimAsync(requestBatches[k].AsMemory(0, claimCounts[k]), outcomes, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                embedded.CommitPending();
            }
            var claimsEmbedded = measure.Stop();
            measure = Measure.Start();
            foreach (var decoded in decodedBatches)
            {
                var buckets = new Dictionary<BucketKey, BucketCounts>();
                foreach (ref readonly var click in decoded.AsSpan())
                {
                    ref var bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(buckets, new BucketKey(click.AdvertiserId, click.CampaignId, click.AdId, click.Minute), out _);
                    bucket ??= new BucketCounts();
                    bucket.Add(click.Reason, in click);
                }
            }
            var bucketing = measure.Stop();
            decodedBatches = null;
            embedded.Purge(DateTimeOffset.MaxValue);
            var step = new AggregationStep(embedded);
            measure = Measure.Start();
            foreach (var batch in batches)
            {
                using var result = step.AggregateAsync(batch, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                embedded.CommitPending(); // then the result goes back to the step, as the consumer's does (decision 102)
            }
            var whole = measure.Stop();
            if (r == 0)
            {
                continue;
            }
            Record("before: decode (ClickEvent, pool per batch)", decodeBefore.Ticks, decodeBefore.Bytes);
            Record("before: buckets (dictionary per bucket)", bucketsBefore.Ticks, bucketsBefore.Bytes);
            Record("decode (DecodedClick, step's pool)", decode.Ticks, decode.Bytes);
            Record("repeats in batch (reused dictionary)", repeats.Ticks, repeats.Bytes);
            Record("claims, fresh InMemoryClaimStore", claimsFresh.Ticks, claimsFresh.Bytes);
            Record("claims, steady EmbeddedClaimStore", claimsEmbedded.Ticks, claimsEmbedded.Bytes);
            Record("buckets (DimensionCountCollection)", bucketing.Ticks, bucketing.Bytes);
            Record("whole step (steady EmbeddedClaimStore)", whole.Ticks, whole.Bytes);
        }
        Console.WriteLine(name);
        foreach (var (phase, (ns, bytes)) in phases)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {phase,-44} {Interleaved.Median(ns),8:F0} ns/event {Interleaved.Median(bytes),8:F0} B/event"));
        }
    }

    private readonly record struct Measure(long StartTicks, long StartBytes)
    {
        public static Measure Start() => new(Stopwatch.GetTimestamp(), GC.GetAllocatedBytesForCurrentThread());

        public (long Ticks, long Bytes) Stop() => (Stopwatch.GetTimestamp() - StartTicks, GC.GetAllocatedBytesForCurrentThread() - StartBytes);
    }
}
