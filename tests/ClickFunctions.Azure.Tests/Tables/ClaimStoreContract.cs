using Azure.Data.Tables;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Tables;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tests.Tables;

/// <summary>
/// The one contract of <see cref="IClaimStore"/>: <see cref="ClaimRules"/> decides, whatever the store. Every claim
/// store runs these same facts: the in-memory reference, the embedded store (claims persisted in DuckDB and loaded
/// back before every call, as after a restart), and the Table store on a real Azurite.
/// </summary>
public abstract class ClaimStoreContract
{
    protected static readonly TimeSpan Horizon = TimeSpan.FromHours(24);

    /// <summary>Midnight UTC, 2026-11-29; the facts use clicks over the three days from here.</summary>
    protected static readonly DateTimeOffset T0 = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The stores' "now" (for expiry): just after the last click any fact uses.</summary>
    protected static readonly DateTimeOffset Now = T0.AddDays(3).AddHours(1);

    /// <summary>A fresh, empty store with a 24-hour horizon.</summary>
    protected abstract IClaimStore NewStore();

    private static int s_impressions;

    private static ClickId NewId() => ClickId.FromImpression("adv-1", "ad-1", "imp" + Interlocked.Increment(ref s_impressions));

    private static async Task<ClaimOutcome[]> Claim(IClaimStore store, params ClaimRequest[] requests)
    {
        var outcomes = new ClaimOutcome[requests.Length];
        await store.ClaimAsync(requests, outcomes, TestContext.Current.CancellationToken);
        return outcomes;
    }

    [Fact]
    public async Task A_first_claim_is_claimed_and_the_same_event_redelivered_is_itself_not_a_duplicate()
    {
        var store = NewStore();
        var id = NewId();
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, new ClaimRequest(id, T0.AddHours(10), "3", 42)));
        Assert.Equal([ClaimOutcome.ClaimedBefore], await Claim(store, new ClaimRequest(id, T0.AddHours(10), "3", 42)));
        Assert.Equal([ClaimOutcome.ClaimedBefore], await Claim(store, new ClaimRequest(id, T0.AddHours(10), "3", 42)));
    }

    [Fact]
    public async Task Another_event_of_the_same_click_id_within_the_horizon_is_a_duplicate()
    {
        var store = NewStore();
        var id = NewId();
        await Claim(store, new ClaimRequest(id, T0.AddHours(10), "3", 42));
        Assert.Equal([ClaimOutcome.Duplicate], await Claim(store, new ClaimRequest(id, T0.AddHours(10), "3", 43)));
        Assert.Equal([ClaimOutcome.Duplicate], await Claim(store, new ClaimRequest(id, T0.AddHours(10), "4", 42)));
        Assert.Equal([ClaimOutcome.Duplicate], await Claim(store, new ClaimRequest(id, T0.AddHours(33.99), "3", 44)));
    }

    [Fact]
    public async Task A_repeat_29_hours_after_a_claim_with_a_24_hour_horizon_is_claimed_afresh_and_then_dedups_itself()
    {
        var store = NewStore();
        var id = NewId();
        await Claim(store, new ClaimRequest(id, T0.AddHours(10), "0", 1));
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, new ClaimRequest(id, T0.AddHours(39), "0", 2)));
        Assert.Equal([ClaimOutcome.Duplicate], await Claim(store, new ClaimRequest(id, T0.AddHours(40), "0", 3)));
        Assert.Equal([ClaimOutcome.ClaimedBefore], await Claim(store, new ClaimRequest(id, T0.AddHours(39), "0", 2)));
    }

    [Fact]
    public async Task A_repeat_exactly_one_horizon_later_is_claimed_one_tick_earlier_is_a_duplicate()
    {
        var store = NewStore();
        var (a, b) = (NewId(), NewId());
        await Claim(store, new ClaimRequest(a, T0.AddHours(30), "0", 1), new ClaimRequest(b, T0.AddHours(30), "0", 2));
        Assert.Equal([ClaimOutcome.Claimed, ClaimOutcome.Duplicate], await Claim(store,
            new ClaimRequest(a, T0.AddHours(30) + Horizon, "0", 3),
            new ClaimRequest(b, T0.AddHours(30) + Horizon - TimeSpan.FromTicks(1), "0", 4)));
    }

    /// <summary>Across each midnight of the days used (table stores cut time there, by day or by two days).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_repeat_across_midnight_within_the_horizon_is_a_duplicate_and_one_past_it_is_claimed(int day)
    {
        var store = NewStore();
        var midnight = T0.AddDays(day);
        var (near, far, early) = (NewId(), NewId(), NewId());
        await Claim(store,
            new ClaimRequest(near, midnight.AddMinutes(-1), "0", 1),
            new ClaimRequest(far, midnight.AddHours(-2), "0", 2),
            new ClaimRequest(early, midnight.AddMinutes(2), "0", 3));
        Assert.Equal([ClaimOutcome.Duplicate, ClaimOutcome.Duplicate, ClaimOutcome.Claimed, ClaimOutcome.Duplicate], await Claim(store,
            new ClaimRequest(near, midnight.AddMinutes(1), "0", 11),
            new ClaimRequest(far, midnight.AddHours(21.9), "0", 12),
            new ClaimRequest(NewId(), midnight.AddMinutes(1), "0", 13),
            // out of time order by 4 minutes, across midnight: still the same click
            new ClaimRequest(early, midnight.AddMinutes(-2), "0", 14)));
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, new ClaimRequest(far, midnight.AddHours(22), "0", 15)));
    }

    [Fact]
    public async Task Repeats_within_one_call_are_decided_in_order()
    {
        var store = NewStore();
        var (a, b, c) = (NewId(), NewId(), NewId());
        Assert.Equal(
            [ClaimOutcome.Claimed, ClaimOutcome.Duplicate, ClaimOutcome.Claimed, ClaimOutcome.Claimed, ClaimOutcome.ClaimedBefore, ClaimOutcome.Claimed],
            await Claim(store,
                new ClaimRequest(a, T0.AddHours(1), "0", 1),
                new ClaimRequest(a, T0.AddHours(2), "0", 2),
                new ClaimRequest(b, T0.AddHours(1), "0", 3),
                new ClaimRequest(b, T0.AddHours(30), "0", 4),
                new ClaimRequest(b, T0.AddHours(30), "0", 4),
                new ClaimRequest(c, T0.AddHours(1), "1", 1)));
    }

    /// <summary>
    /// Many ids over three days in batches of up to 250 (several transactions per partition key in the Table store),
    /// with redeliveries, duplicates within and past the horizon: every outcome is what <see cref="ClaimRules"/>
    /// gives applied in order to the latest claim of each id (worked out here, not by any store).
    /// </summary>
    [Fact]
    public async Task Random_batches_get_the_outcomes_ClaimRules_gives_in_order()
    {
        var random = new Random(20261129);
        var ids = Enumerable.Range(0, 120).Select(_ => NewId()).ToArray();
        var store = NewStore();
        var latest = new Dictionary<ClickId, Claim>();
        var recent = new List<ClaimRequest>();
        long sequence = 0;
        var time = T0;
        for (int batch = 0; batch < 6; batch++)
        {
            var requests = new List<ClaimRequest>();
            for (int n = random.Next(100, 250); n > 0; n--)
            {
                time = Min(time + TimeSpan.FromSeconds(random.Next(0, 360)), T0.AddHours(70));
                requests.Add(recent.Count > 0 && random.Next(8) == 0
                    ? recent[random.Next(recent.Count)] // a redelivery of an event of this or the previous batch
                    : new ClaimRequest(ids[random.Next(ids.Length)], time, random.Next(4).ToString(System.Globalization.CultureInfo.InvariantCulture), sequence++));
            }
            var expected = new ClaimOutcome[requests.Count];
            for (int i = 0; i < requests.Count; i++)
            {
                var r = requests[i];
                expected[i] = ClaimRules.Decide(latest.TryGetValue(r.ClickId, out var c) ? c : null, r, Horizon);
                if (expected[i] == ClaimOutcome.Claimed)
                {
                    latest[r.ClickId] = new Claim(r.ClickTime, r.Partition, r.SequenceNumber);
                }
            }
            Assert.Equal(expected, await Claim(store, [.. requests]));
            recent = requests;
        }
        Assert.True(time > T0.AddDays(2), "the clicks cover more than two days");
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

public sealed class InMemoryClaimStoreContract : ClaimStoreContract
{
    protected override IClaimStore NewStore() => new InMemoryClaimStore(Horizon);
}

/// <summary>The embedded claim store as the consumer uses it, its claims committed to DuckDB and reloaded before every call.</summary>
public sealed class EmbeddedClaimStoreContract : ClaimStoreContract, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("claims-contract-").FullName;
    private readonly List<DuckDbClickStore> _stores = [];

    protected override IClaimStore NewStore()
    {
        var store = new DuckDbClickStore(new ClickStoreOptions { Path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".duckdb") });
        _stores.Add(store);
        return new Persisted(store);
    }

    public void Dispose()
    {
        _stores.ForEach(s => s.Dispose());
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class Persisted(DuckDbClickStore duckDb) : IClaimStore
    {
        public async ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken)
        {
            var claims = new EmbeddedClaimStore(Horizon);
            claims.Load(duckDb.LoadClaims(Now - Horizon - TimeSpan.FromDays(7)));
            await claims.ClaimAsync(requests, outcomes, cancellationToken);
            duckDb.Commit(new StoreBatch(new Dictionary<BucketKey, BucketCounts>(), [.. claims.Pending], [], new Dictionary<int, long>()));
            claims.CommitPending();
        }
    }
}

public sealed class TableClaimStoreContract(Azurite azurite) : ClaimStoreContract
{
    protected override IClaimStore NewStore() => new TableClaimStore(
        azurite.Tables(),
        Options.Create(new TableClaimOptions
        {
            TableServiceUri = azurite.TableEndpoint,
            TablePrefix = "k" + Guid.NewGuid().ToString("N")[..12],
            DedupHorizon = Horizon,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
        }),
        new FixedClock(Now),
        NullLogger<TableClaimStore>.Instance);
}

/// <summary>A clock that reads a fixed time but waits in real time.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
