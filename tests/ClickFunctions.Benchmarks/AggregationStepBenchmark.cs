using BenchmarkDotNet.Attributes;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// The core aggregation step on one thread with an in-memory claim store: decode, dedup, bucket. Each operation
/// is one event; the step runs on batches of <see cref="BatchSize"/> events as the embedded consumer does.
/// The mix: 200,000 events 5 ms apart over <see cref="DistinctAds"/> ads, ~94% valid, 4% bot user agents, 2% double clicks.
/// </summary>
[MemoryDiagnoser]
public class AggregationStepBenchmark
{
    private const int Events = 200_000;
    private RawEvent[][] _batches = [];

    /// <summary>Events per step; the embedded consumer takes up to 20,000.</summary>
    [Params(1_000, 20_000)]
    public int BatchSize { get; set; }

    /// <summary>Distinct ads in the stream: with 100,000 nearly every event opens a new bucket (the worst case).</summary>
    [Params(1_000, 100_000)]
    public int DistinctAds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var start = new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
        var events = new RawEvent[Events];
        for (int i = 0; i < Events; i++)
        {
            int impression = random.Next(50) == 0 && i > 0 ? i - 1 : i;
            string ad = "ad-" + (impression % DistinctAds);
            var reason = random.Next(25) == 0 ? ClickReason.BotUserAgent : ClickReason.Valid;
            var click = new ClickEvent(
                ClickId.FromImpression("adv-" + (impression % 100), ad, "imp-" + impression),
                start.AddMilliseconds(i * 5L), ad, "adv-" + (impression % 100), "cmp-" + (impression % 500), reason,
                "news.example", "203.0.113.0", new Fingerprint((UInt128)impression));
            events[i] = new RawEvent("0", i, click.Timestamp, ClickWireFormat.Encode(click));
        }
        _batches = [.. events.Chunk(BatchSize)];
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> AggregateEvents()
    {
        var step = new AggregationStep(new InMemoryClaimStore(TimeSpan.FromHours(24)));
        int buckets = 0;
        foreach (var batch in _batches)
        {
            buckets += (await step.AggregateAsync(batch, CancellationToken.None).ConfigureAwait(false)).Buckets.Count;
        }
        return buckets;
    }
}
