using BenchmarkDotNet.Attributes;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;

namespace ClickFunctions.Benchmarks;

/// <summary>
/// The core aggregation step on one thread with the embedded host's claim store: decode, dedup, bucket. Each
/// operation is one event; the step runs on batches of <see cref="BatchSize"/> events as the embedded consumer does,
/// and the claims of each batch are committed after it (<see cref="EmbeddedClaimStore.CommitPending"/>), as the
/// consumer does once the batch is stored. The claim store lives across invocations and is emptied before each one
/// (<see cref="ResetClaims"/>, outside the measurement), so its dictionaries keep their capacity like a running
/// host's day of claims; until decision 097 a fresh <c>InMemoryClaimStore</c> grew from empty in every invocation,
/// which no host does, and cost ~214 B an event in rehashing (`step-phases`). Likewise each step is made once
/// (<see cref="Setup"/>) and runs every invocation, as a host's singleton does (decision 102); until then a step was
/// made per invocation, so its string pool was refilled every 200,000 events.
/// The mix: 200,000 events 5 ms apart over <see cref="DistinctAds"/> ads, ~94% valid, 4% bot user agents, 2% double clicks.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AggregationStepBenchmark
{
    private const int Events = 200_000;
    private RawEvent[][] _batches = [];
    private readonly EmbeddedClaimStore _claims = new(TimeSpan.FromHours(24));
    private readonly Baseline.BaselineClaimStore _beforeClaims = new(TimeSpan.FromHours(24));
    private Baseline.BaselineAggregationStep _before = null!;
    private AggregationStep _step = null!;

    /// <summary>The events of the current parameters, in steps of <see cref="BatchSize"/> (for `step-phases`).</summary>
    internal RawEvent[][] Batches => _batches;

    /// <summary>Events per step; the embedded consumer takes up to 20,000.</summary>
    [Params(1_000, 20_000)]
    public int BatchSize { get; set; }

    /// <summary>Distinct ads in the stream: with 100,000 nearly every event opens a new bucket (the worst case).</summary>
    [Params(1_000, 100_000)]
    public int DistinctAds { get; set; }

    /// <summary>
    /// With dimensions, each click carries varied breakdown values (20 countries, 4 devices, 6 systems, 6 browsers,
    /// 20 referrers, 50 publishers, 10 placements, 10 creatives, 5 sub-ids), so a bucket counts several values per
    /// dimension; without, every click has the version-1 defaults (one value per dimension).
    /// </summary>
    [Params(false, true)]
    public bool WithDimensions { get; set; }

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
                WithDimensions ? "news" + (impression % 20) + ".example" : "news.example", "203.0.113.0", new Fingerprint((UInt128)impression));
            if (WithDimensions)
            {
                click = click with
                {
                    Dimensions = new ClickDimensions(
                        Countries[impression % Countries.Length], Devices[impression % Devices.Length], Systems[impression % Systems.Length],
                        Browsers[(impression / 7) % Browsers.Length], "pub-" + (impression % 50), "plc-" + (impression % 10),
                        "crv-" + (impression % 10), impression % 3 == 0 ? "" : "sub-" + (impression % 5)),
                };
            }
            events[i] = new RawEvent("0", i, click.Timestamp, ClickWireFormat.Encode(click));
        }
        _batches = [.. events.Chunk(BatchSize)];
        // One step of each for the whole run, as a host's singleton step lives for the process (decision 102): what
        // either keeps across batches (string pool, repeat check, and this branch's buckets) is in its steady state.
        _before = new Baseline.BaselineAggregationStep(_beforeClaims);
        _step = new AggregationStep(_claims);
    }

    /// <summary>
    /// Forgets every claim (keeping the dictionaries' capacity), so each invocation claims its events afresh. An
    /// iteration setup makes BenchmarkDotNet run one invocation per iteration (each is 200,000 events, 0.2-2 s).
    /// </summary>
    [IterationSetup]
    public void ResetClaims()
    {
        _claims.DiscardPending();
        _claims.Purge(DateTimeOffset.MaxValue);
        _beforeClaims.DiscardPending();
        _beforeClaims.Purge(DateTimeOffset.MaxValue);
    }

    private static readonly string[] Countries = ["US", "GB", "DE", "FR", "IN", "BR", "JP", "CA", "AU", "NL", "SE", "ES", "IT", "PL", "MX", "KR", "ZA", "NG", "AR", "TR"];
    private static readonly string[] Devices = ["mobile", "desktop", "tablet", "other"];
    private static readonly string[] Systems = ["ios", "android", "windows", "macos", "linux", "other"];
    private static readonly string[] Browsers = ["chrome", "safari", "firefox", "edge", "samsung", "other"];

    /// <summary>
    /// Main at f744966 (decision 097): its step (<see cref="Baseline.BaselineAggregationStep"/>, with that commit's
    /// decode and string pool) and its embedded claim store (<see cref="Baseline.BaselineClaimStore"/>); same input.
    /// </summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public async Task<int> Before()
    {
        int buckets = 0;
        foreach (var batch in _batches)
        {
            using var result = await _before.AggregateAsync(batch, CancellationToken.None).ConfigureAwait(false);
            buckets += result.Buckets.Count;
            _beforeClaims.CommitPending();
        }
        return buckets;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> AggregateEvents()
    {
        int buckets = 0;
        foreach (var batch in _batches)
        {
            using var result = await _step.AggregateAsync(batch, CancellationToken.None).ConfigureAwait(false);
            buckets += result.Buckets.Count;
            _claims.CommitPending(); // then the result goes back to the step, as the consumer's does (decision 102)
        }
        return buckets;
    }
}
