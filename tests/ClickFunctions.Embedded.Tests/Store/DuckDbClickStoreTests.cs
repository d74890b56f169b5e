using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;
using ClickFunctions.Queries;

namespace ClickFunctions.Tests.Store;

public sealed class DuckDbClickStoreTests : IDisposable
{
    private static readonly DateTimeOffset Day = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-store-").FullName;

    private string StorePath => Path.Combine(_directory, ClickStoreOptions.FileName);

    private DuckDbClickStore Open() => new(new ClickStoreOptions { Path = StorePath });

    private static Dictionary<BucketKey, BucketCounts> Buckets(params (string Advertiser, string Ad, DateTimeOffset Minute, long Clicks, long Bots)[] rows)
    {
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        foreach (var (advertiser, ad, minute, clicks, bots) in rows)
        {
            var counts = new BucketCounts();
            counts.Add(ClickReason.Valid, clicks);
            counts.Add(ClickReason.BotUserAgent, bots);
            buckets.Add(new BucketKey(advertiser, "cmp-1", ad, minute), counts);
        }
        return buckets;
    }

    private static StoreBatch Batch(Dictionary<BucketKey, BucketCounts> buckets, long position = 0, IReadOnlyList<NewClaim>? claims = null, IReadOnlyList<DeadLetter>? deadLetters = null) =>
        new(buckets, claims ?? [], deadLetters ?? [], new Dictionary<int, long> { [0] = position });

    private static AdClicksQuery Query(Granularity granularity, DateTimeOffset from, DateTimeOffset to, string ad = "ad-1", string advertiser = "adv-1") =>
        new(advertiser, ad, granularity, new TimeRange(from, to));

    [Fact]
    public async Task Minute_buckets_roll_up_into_hours_and_days_incrementally_across_batches()
    {
        using var store = Open();
        store.Commit(Batch(Buckets(("adv-1", "ad-1", Day.AddMinutes(5), 2, 1), ("adv-1", "ad-1", Day.AddMinutes(70), 1, 0)), 10));
        store.Commit(Batch(Buckets(("adv-1", "ad-1", Day.AddMinutes(5), 3, 0), ("adv-1", "ad-1", Day.AddDays(1), 4, 0)), 20));
        var ct = TestContext.Current.CancellationToken;

        var minutes = await store.GetAdClicksAsync(Query(Granularity.Minute, Day, Day.AddHours(2)), ct);
        var hours = await store.GetAdClicksAsync(Query(Granularity.Hour, Day, Day.AddDays(2)), ct);
        var days = await store.GetAdClicksAsync(Query(Granularity.Day, Day, Day.AddDays(2)), ct);

        Assert.Equal([new ClickBucket(Day.AddMinutes(5).UtcDateTime, 5, 1), new ClickBucket(Day.AddMinutes(70).UtcDateTime, 1, 0)], minutes!.Buckets);
        Assert.Equal(new ClickTotals(6, 1), minutes.Total);
        Assert.Equal(
            [new ClickBucket(Day.UtcDateTime, 5, 1), new ClickBucket(Day.AddHours(1).UtcDateTime, 1, 0), new ClickBucket(Day.AddDays(1).UtcDateTime, 4, 0)],
            hours!.Buckets);
        Assert.Equal([new ClickBucket(Day.UtcDateTime, 6, 1), new ClickBucket(Day.AddDays(1).UtcDateTime, 4, 0)], days!.Buckets);
        Assert.Equal(3, store.CountRows(Granularity.Minute));
        Assert.Equal(3, store.CountRows(Granularity.Hour));
        Assert.Equal(2, store.CountRows(Granularity.Day));
        Assert.Equal(20, store.LoadPositions()[0]);
    }

    [Fact]
    public async Task The_range_is_half_open_and_empty_buckets_are_omitted()
    {
        using var store = Open();
        store.Commit(Batch(Buckets(("adv-1", "ad-1", Day.AddMinutes(9), 1, 0), ("adv-1", "ad-1", Day.AddMinutes(10), 1, 0), ("adv-1", "ad-1", Day.AddMinutes(20), 1, 0))));

        var result = await store.GetAdClicksAsync(Query(Granularity.Minute, Day.AddMinutes(10), Day.AddMinutes(20)), TestContext.Current.CancellationToken);

        Assert.Equal([new ClickBucket(Day.AddMinutes(10).UtcDateTime, 1, 0)], result!.Buckets);
    }

    [Fact]
    public async Task Another_advertisers_ad_and_a_missing_ad_are_both_absent_while_a_quiet_range_of_a_known_ad_is_empty()
    {
        using var store = Open();
        store.Commit(Batch(Buckets(("adv-1", "ad-1", Day, 1, 0), ("adv-2", "ad-2", Day, 1, 0))));
        var ct = TestContext.Current.CancellationToken;

        Assert.Null(await store.GetAdClicksAsync(Query(Granularity.Day, Day, Day.AddDays(1), ad: "ad-2"), ct));
        Assert.Null(await store.GetAdClicksAsync(Query(Granularity.Day, Day, Day.AddDays(1), ad: "ad-9"), ct));
        var quiet = await store.GetAdClicksAsync(Query(Granularity.Day, Day.AddDays(5), Day.AddDays(6)), ct);
        Assert.Empty(quiet!.Buckets);
        Assert.Equal(new ClickTotals(0, 0), quiet.Total);
    }

    [Fact]
    public async Task The_listing_holds_only_the_advertisers_ads_ordered_by_clicks_with_ragged_edges_counted_exactly()
    {
        using var store = Open();
        store.Commit(Batch(Buckets(
            ("adv-1", "ad-a", Day.AddMinutes(30), 1, 0),
            ("adv-1", "ad-a", Day.AddDays(1).AddMinutes(10), 1, 0),
            ("adv-1", "ad-b", Day.AddHours(5), 7, 2),
            ("adv-1", "ad-c", Day.AddMinutes(29), 100, 0),
            ("adv-2", "ad-x", Day.AddHours(5), 50, 0))));

        var listing = await store.ListAdsAsync(
            new AdvertiserAdsQuery("adv-1", new TimeRange(Day.AddMinutes(30), Day.AddDays(1).AddMinutes(11))), TestContext.Current.CancellationToken);

        Assert.Equal([new AdTotals("ad-b", "cmp-1", 7, 2), new AdTotals("ad-a", "cmp-1", 2, 0)], listing.Ads);
    }

    [Fact]
    public async Task A_failed_commit_leaves_no_bucket_claim_dead_letter_or_position_behind()
    {
        using var store = Open();
        store.Commit(Batch(Buckets(("adv-1", "ad-1", Day, 1, 0)), 5));
        var claim = new NewClaim(new ClickId(99), new Claim(Day, "0", 5));
        var poison = new DeadLetter(new RawEvent("0", 6, Day, new byte[] { 1 }), null!);

        Assert.ThrowsAny<Exception>(() => store.Commit(Batch(Buckets(("adv-1", "ad-1", Day, 10, 0)), 7, [claim], [poison])));

        var result = await store.GetAdClicksAsync(Query(Granularity.Minute, Day, Day.AddHours(1)), TestContext.Current.CancellationToken);
        Assert.Equal(1, result!.Total.Clicks);
        Assert.Equal(1, (await store.GetAdClicksAsync(Query(Granularity.Day, Day, Day.AddDays(1)), TestContext.Current.CancellationToken))!.Total.Clicks);
        Assert.Equal(5, store.LoadPositions()[0]);
        Assert.Empty(store.LoadClaims(Day.AddDays(-1)));
        Assert.Empty(store.ReadDeadLetters());
    }

    [Fact]
    public void Claims_positions_and_dead_letters_survive_reopening_and_old_claims_are_purged()
    {
        var recent = new NewClaim(new ClickId(UInt128.MaxValue - 1), new Claim(Day.AddHours(12), "3", 41));
        var old = new NewClaim(new ClickId(7), new Claim(Day.AddDays(-2), "1", 2));
        using (var store = Open())
        {
            store.Commit(new StoreBatch(
                new Dictionary<BucketKey, BucketCounts>(),
                [recent, old],
                [new DeadLetter(new RawEvent("2", 8, Day, new byte[] { 1, 2 }), "too short")],
                new Dictionary<int, long> { [0] = 3, [3] = 42 }));
        }

        using var reopened = Open();

        Assert.Equal(new Dictionary<int, long> { [0] = 3, [3] = 42 }, reopened.LoadPositions());
        Assert.Equal([recent, old], reopened.LoadClaims(Day.AddDays(-3)).OrderByDescending(c => c.ClickId.Value));
        Assert.Equal([("2", 8L, "too short")], reopened.ReadDeadLetters());
        Assert.Equal(1, reopened.PurgeClaims(Day.AddDays(-1)));
        Assert.Equal([recent], reopened.LoadClaims(Day.AddDays(-3)));
    }

    [Fact]
    public async Task Two_advertisers_ads_whose_old_hash_keys_collide_stay_two_ads_each_seen_only_by_its_advertiser()
    {
        Assert.Equal(CollidingAds.Key, CollidingAds.LegacyAdKey("acme", CollidingAds.AcmeAd));
        Assert.Equal(CollidingAds.LegacyAdKey("acme", CollidingAds.AcmeAd), CollidingAds.LegacyAdKey("globex", CollidingAds.GlobexAd));
        using var store = Open();
        store.Commit(Batch(Buckets(("acme", CollidingAds.AcmeAd, Day.AddMinutes(1), 3, 1))));
        store.Commit(Batch(Buckets(("globex", CollidingAds.GlobexAd, Day.AddMinutes(1), 5, 0), ("acme", CollidingAds.AcmeAd, Day.AddMinutes(2), 1, 0)), 1));
        var ct = TestContext.Current.CancellationToken;
        var range = new TimeRange(Day, Day.AddDays(1));

        foreach (var granularity in new[] { Granularity.Minute, Granularity.Hour, Granularity.Day })
        {
            Assert.Equal(new ClickTotals(4, 1), (await store.GetAdClicksAsync(Query(granularity, Day, Day.AddDays(1), CollidingAds.AcmeAd, "acme"), ct))!.Total);
            Assert.Equal(new ClickTotals(5, 0), (await store.GetAdClicksAsync(Query(granularity, Day, Day.AddDays(1), CollidingAds.GlobexAd, "globex"), ct))!.Total);
            Assert.Null(await store.GetAdClicksAsync(Query(granularity, Day, Day.AddDays(1), CollidingAds.GlobexAd, "acme"), ct));
            Assert.Null(await store.GetAdClicksAsync(Query(granularity, Day, Day.AddDays(1), CollidingAds.AcmeAd, "globex"), ct));
        }
        Assert.Equal([new AdTotals(CollidingAds.AcmeAd, "cmp-1", 4, 1)], (await store.ListAdsAsync(new AdvertiserAdsQuery("acme", range), ct)).Ads);
        Assert.Equal([new AdTotals(CollidingAds.GlobexAd, "cmp-1", 5, 0)], (await store.ListAdsAsync(new AdvertiserAdsQuery("globex", range), ct)).Ads);
    }

    [Fact]
    public async Task An_ad_under_two_campaigns_keeps_a_row_per_campaign_and_its_query_answers_their_sum()
    {
        using var store = Open();
        var buckets = Buckets(("adv-1", "ad-1", Day.AddMinutes(5), 2, 0));
        var second = new BucketCounts();
        second.Add(ClickReason.Valid, 3);
        buckets.Add(new BucketKey("adv-1", "cmp-2", "ad-1", Day.AddMinutes(5)), second);
        store.Commit(Batch(buckets));

        var minutes = await store.GetAdClicksAsync(Query(Granularity.Minute, Day, Day.AddHours(1)), TestContext.Current.CancellationToken);

        Assert.Equal([new ClickBucket(Day.AddMinutes(5).UtcDateTime, 5, 0)], minutes!.Buckets);
        Assert.Equal(2, store.CountRows(Granularity.Minute));
    }

    [Fact]
    public void A_store_of_the_unversioned_hash_keyed_schema_is_refused_with_how_to_rebuild_it_from_the_log()
    {
        LegacyStore.CreateVersion1(StorePath);

        var refused = Assert.Throws<StoreVersionException>(Open);

        Assert.Equal(1, refused.FoundVersion);
        Assert.Contains("schema version 1", refused.Message, StringComparison.Ordinal);
        Assert.Contains("reconcile --from", refused.Message, StringComparison.Ordinal);
        Assert.Contains(StorePath, refused.Message, StringComparison.Ordinal);
        using var check = new DuckDB.NET.Data.DuckDBConnection($"Data Source={StorePath}");
        check.Open();
        using var count = check.CreateCommand();
        count.CommandText = "SELECT count(*) FROM ads";
        Assert.Equal(1L, Convert.ToInt64(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)); // left as it was
    }

    // Issue 12 finding 5 / docs/decisions/051 / duckdb#23788: DuckDB 1.4-1.5 buffers the rows it replays from a WAL
    // into an index that is still unbound, and the checkpoint it runs at close (no client context) persists that index
    // without them: the rows stay in the table but every `page` lookup misses, for good. The store's CHECKPOINT right
    // after opening binds the indexes first. The crash is the on-disk state a kill -9 leaves (the page cache outlives
    // the process): the file as of its last checkpoint plus the committed rows in its WAL, copied while the store is
    // open; the copy is then opened once (which replays the WAL), scanned without the index, closed, and queried on
    // the next open. Without the CHECKPOINT on open this fails on DuckDB 1.5.6 (the bucket replayed from the WAL is
    // missing from the lookup while the scan counts it). The thousand other ads' rows are part of the trigger: with the
    // one replayed row alone DuckDB 1.5.6 still found it (we did not find out why). The WAL stays far below DuckDB's
    // automatic checkpoint threshold (wal_autocheckpoint, 16 MB by default), so nothing checkpoints before the copy.
    [Fact]
    public async Task Rows_recovered_from_the_wal_after_a_crash_are_still_found_through_the_page_index_after_the_next_restart()
    {
        var crashed = Path.Combine(_directory, "crashed");
        Directory.CreateDirectory(crashed);
        var copy = Path.Combine(crashed, ClickStoreOptions.FileName);
        using (var store = Open())
        {
            store.Commit(Batch(Buckets(("adv-1", "ad-1", Day.AddMinutes(5), 3, 1)), 4));
        }
        using (var store = Open())
        {
            var rows = Enumerable.Range(0, 1000).Select(i => ("adv-1", "ad-" + (i + 2), Day.AddMinutes(i), 1L, 0L)).Append(("adv-1", "ad-1", Day.AddHours(2), 4, 0));
            store.Commit(Batch(Buckets([.. rows]), 9));
            Assert.True(File.Exists(StorePath + ".wal"), "the committed rows should be in the WAL only (no checkpoint yet)");
            File.Copy(StorePath, copy);
            File.Copy(StorePath + ".wal", copy + ".wal");
        }

        using (var recovered = new DuckDbClickStore(new ClickStoreOptions { Path = copy }))
        {
            Assert.False(recovered.IsEmpty()); // what a re-run checks first: a scan that does not use the page index
            Assert.Equal(9, recovered.LoadPositions()[0]);
        }

        using var restarted = new DuckDbClickStore(new ClickStoreOptions { Path = copy });
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(1002, restarted.CountRows(Granularity.Minute));
        var minutes = await restarted.GetAdClicksAsync(Query(Granularity.Minute, Day, Day.AddDays(1)), ct);
        Assert.Equal([new ClickBucket(Day.AddMinutes(5).UtcDateTime, 3, 1), new ClickBucket(Day.AddHours(2).UtcDateTime, 4, 0)], minutes!.Buckets);
        var days = await restarted.GetAdClicksAsync(Query(Granularity.Day, Day, Day.AddDays(1)), ct);
        Assert.Equal(new ClickTotals(7, 1), days!.Total);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
