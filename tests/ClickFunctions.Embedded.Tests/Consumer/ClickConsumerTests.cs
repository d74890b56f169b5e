using System.Diagnostics;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Consumer;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Queries;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Tests.Consumer;

public sealed class ClickConsumerTests : IDisposable
{
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-consumer-").FullName;

    private sealed class Rig : IAsyncDisposable
    {
        public required LocalClickLog Log { get; init; }
        public required DuckDbClickStore Store { get; init; }
        public required ClickConsumer Consumer { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Consumer.StopAsync(CancellationToken.None);
            Consumer.Dispose();
            Store.Dispose();
            Log.Dispose();
        }
    }

    private async Task<Rig> StartAsync()
    {
        var log = new LocalClickLog(new LocalLogOptions { Directory = Path.Combine(_directory, "log"), Partitions = 3 }, TimeProvider.System, NullLoggerFactory.Instance);
        var store = new DuckDbClickStore(new ClickStoreOptions { Path = Path.Combine(_directory, ClickStoreOptions.FileName) });
        var claims = new EmbeddedClaimStore(Horizon);
        var consumer = new ClickConsumer(log, store, claims, new AggregationStep(claims), Options.Create(new ClickConsumerOptions()), TimeProvider.System, NullLogger<ClickConsumer>.Instance);
        await consumer.StartAsync(TestContext.Current.CancellationToken);
        return new Rig { Log = log, Store = store, Consumer = consumer };
    }

    [Fact]
    public void Steps_under_load_are_spaced_by_their_cost_within_the_commit_interval_and_its_cap()
    {
        var options = new ClickConsumerOptions { CommitInterval = TimeSpan.FromMilliseconds(100), StepShare = 0.25, MaxCommitInterval = TimeSpan.FromMilliseconds(500) };
        // A cheap step: the commit interval is the floor.
        Assert.Equal(TimeSpan.FromMilliseconds(100), ClickConsumer.StepSpacing(options, options.MaxBatchEvents, TimeSpan.FromMilliseconds(10)));
        // A 40 ms step at a quarter share: the next starts 160 ms after this one began.
        Assert.Equal(TimeSpan.FromMilliseconds(160), ClickConsumer.StepSpacing(options, options.MaxBatchEvents, TimeSpan.FromMilliseconds(40)));
        // A long step: the cap bounds the lag the pacing adds.
        Assert.Equal(TimeSpan.FromMilliseconds(500), ClickConsumer.StepSpacing(options, options.MaxBatchEvents, TimeSpan.FromMilliseconds(400)));
        // A share of 1 turns the pacing off; a cap under the commit interval never shortens it.
        Assert.Equal(TimeSpan.FromMilliseconds(100), ClickConsumer.StepSpacing(options, options.MaxBatchEvents, TimeSpan.Zero));
        var unpaced = new ClickConsumerOptions { CommitInterval = TimeSpan.FromMilliseconds(100), StepShare = 1, MaxCommitInterval = TimeSpan.FromMilliseconds(500) };
        Assert.Equal(TimeSpan.FromMilliseconds(100), ClickConsumer.StepSpacing(unpaced, unpaced.MaxBatchEvents, TimeSpan.FromMilliseconds(400)));
        var lowCap = new ClickConsumerOptions { CommitInterval = TimeSpan.FromMilliseconds(100), StepShare = 0.25, MaxCommitInterval = TimeSpan.FromMilliseconds(50) };
        Assert.Equal(TimeSpan.FromMilliseconds(100), ClickConsumer.StepSpacing(lowCap, lowCap.MaxBatchEvents, TimeSpan.FromMilliseconds(400)));
    }

    [Fact]
    public void After_a_small_step_the_next_waits_only_the_commit_interval_however_long_the_step_took()
    {
        var options = new ClickConsumerOptions { CommitInterval = TimeSpan.FromMilliseconds(100), StepShare = 0.25, MaxCommitInterval = TimeSpan.FromMilliseconds(500), MaxBatchEvents = 20_000 };
        // Under 1% of MaxBatchEvents (200 here): one click on a quiet host is not paced, so it is visible as before.
        Assert.Equal(TimeSpan.FromMilliseconds(100), ClickConsumer.StepSpacing(options, 1, TimeSpan.FromMilliseconds(400)));
        Assert.Equal(TimeSpan.FromMilliseconds(100), ClickConsumer.StepSpacing(options, 199, TimeSpan.FromMilliseconds(400)));
        // From 1% on, the step's cost paces the next.
        Assert.Equal(TimeSpan.FromMilliseconds(500), ClickConsumer.StepSpacing(options, 200, TimeSpan.FromMilliseconds(400)));
        Assert.Equal(TimeSpan.FromMilliseconds(160), ClickConsumer.StepSpacing(options, 20_000, TimeSpan.FromMilliseconds(40)));
        // A tiny MaxBatchEvents still paces steps of one event or more.
        var tiny = new ClickConsumerOptions { CommitInterval = TimeSpan.FromMilliseconds(100), StepShare = 0.25, MaxCommitInterval = TimeSpan.FromMilliseconds(500), MaxBatchEvents = 50 };
        Assert.Equal(TimeSpan.FromMilliseconds(160), ClickConsumer.StepSpacing(tiny, 1, TimeSpan.FromMilliseconds(40)));
    }

    private static ClickEvent Click(string ad, string impression, ClickReason reason = ClickReason.Valid) => new(
        ClickId.FromImpression("adv-1", ad, impression), DateTimeOffset.UtcNow, ad, "adv-1", "cmp-1", reason, "", "203.0.113.0", default);

    private static async Task<ClickTotals> TotalsAsync(DuckDbClickStore store, string ad)
    {
        var today = Granularity.Day.Floor(DateTimeOffset.UtcNow);
        var result = await store.GetAdClicksAsync(
            new AdClicksQuery("adv-1", ad, Granularity.Day, new TimeRange(today.AddDays(-1), today.AddDays(2))), CancellationToken.None);
        return result?.Total ?? new ClickTotals(0, 0);
    }

    private static async Task<ClickTotals> WaitForAsync(DuckDbClickStore store, string ad, ClickTotals expected, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        ClickTotals totals;
        while ((totals = await TotalsAsync(store, ad)) != expected && watch.Elapsed < within)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
        return totals;
    }

    [Fact]
    public async Task Appended_clicks_become_queryable_with_duplicates_and_bots_counted_invalid()
    {
        // Freshness (the 1 s p99 target) is measured by the benchmark; the bounds here only keep a stuck consumer
        // from hanging the test.
        await using var rig = await StartAsync();
        var ct = TestContext.Current.CancellationToken;

        await rig.Log.AppendAsync(Click("ad-1", "i1"), ct);
        var first = await WaitForAsync(rig.Store, "ad-1", new ClickTotals(1, 0), TimeSpan.FromSeconds(10));
        await rig.Log.AppendAsync(Click("ad-1", "i1"), ct);
        await rig.Log.AppendAsync(Click("ad-1", "i2", ClickReason.BotUserAgent), ct);
        var later = await WaitForAsync(rig.Store, "ad-1", new ClickTotals(1, 2), TimeSpan.FromSeconds(10));

        Assert.Equal(new ClickTotals(1, 0), first);
        Assert.Equal(new ClickTotals(1, 2), later);
    }

    [Fact]
    public async Task A_restarted_consumer_resumes_from_its_stored_positions_without_recounting_or_forgetting_claims()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var rig = await StartAsync())
        {
            await Task.WhenAll(Enumerable.Range(0, 300).Select(i => rig.Log.AppendAsync(Click("ad-" + (i % 5), "i" + i), ct).AsTask()));
            Assert.Equal(new ClickTotals(60, 0), await WaitForAsync(rig.Store, "ad-0", new ClickTotals(60, 0), TimeSpan.FromSeconds(10)));
        }

        await using var again = await StartAsync();
        await again.Log.AppendAsync(Click("ad-0", "i0"), ct);
        await again.Log.AppendAsync(Click("ad-0", "new"), ct);

        Assert.Equal(new ClickTotals(61, 1), await WaitForAsync(again.Store, "ad-0", new ClickTotals(61, 1), TimeSpan.FromSeconds(10)));
        Assert.Equal(302, again.Store.LoadPositions().Values.Sum());
    }

    [Fact]
    public async Task A_malformed_log_record_is_dead_lettered_and_the_consumer_moves_past_it()
    {
        await using var rig = await StartAsync();
        var ct = TestContext.Current.CancellationToken;
        int partition = LocalClickLog.PartitionOf("ad-1", rig.Log.Partitions.Count);

        await rig.Log.AppendRawAsync(partition, [1, 2, 3], ct);
        await rig.Log.AppendAsync(Click("ad-1", "i1"), ct);

        Assert.Equal(new ClickTotals(1, 0), await WaitForAsync(rig.Store, "ad-1", new ClickTotals(1, 0), TimeSpan.FromSeconds(5)));
        var letter = Assert.Single(rig.Store.ReadDeadLetters());
        Assert.Equal((partition.ToString(System.Globalization.CultureInfo.InvariantCulture), 0L), (letter.Partition, letter.Sequence));
    }

    [Fact]
    public async Task A_record_of_a_newer_wire_format_survives_a_restart_with_the_acknowledged_clicks_after_it_and_is_dead_lettered()
    {
        // Issue 12 finding 3: recovery used to decode every record and cut the first block it could not decode,
        // and everything after it, as a torn tail: ten clicks that had their 302 were lost.
        var ct = TestContext.Current.CancellationToken;
        var logOptions = new LocalLogOptions { Directory = Path.Combine(_directory, "log"), Partitions = 3 };
        int partition = LocalClickLog.PartitionOf("ad-1", logOptions.Partitions);
        var newer = ClickWireFormat.Encode(Click("ad-1", "from-the-future"));
        newer[0] = ClickWireFormat.CurrentVersion + 1;
        using (var log = new LocalClickLog(logOptions, TimeProvider.System, NullLoggerFactory.Instance))
        {
            await log.AppendRawAsync(partition, newer, ct);
            for (int i = 0; i < 10; i++)
            {
                await log.AppendAsync(Click("ad-1", "acked-" + i), ct);
            }
        }

        await using var rig = await StartAsync();

        Assert.Equal(11, rig.Log.Partitions[partition].Committed.NextSequence);
        Assert.Equal(new ClickTotals(10, 0), await WaitForAsync(rig.Store, "ad-1", new ClickTotals(10, 0), TimeSpan.FromSeconds(10)));
        var letter = Assert.Single(rig.Store.ReadDeadLetters());
        Assert.Equal((partition.ToString(System.Globalization.CultureInfo.InvariantCulture), 0L), (letter.Partition, letter.Sequence));
        Assert.Contains("version", letter.Reason, StringComparison.OrdinalIgnoreCase);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
