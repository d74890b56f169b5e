using System.Globalization;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;
using ClickFunctions.Queries;

namespace ClickFunctions.Tests.Store;

/// <summary>
/// DuckDB keeps the ART index nodes a lookup has loaded resident and counts them against <c>memory_limit</c>: a
/// store read across many ads fills a fixed limit with index and then fails every lookup ("could not allocate
/// block", DuckDB 1.5; found on the year benchmark store at the old fixed 192MB). These tests read a store across
/// all its ads under a small fixed limit (a clear error naming the setting, never an opaque 500 or a wrong count)
/// and under <c>auto</c> (every answer right).
/// </summary>
public sealed class StoreMemoryTests : IDisposable
{
    private const int Ads = 2_000;
    private const int HoursPerAd = 1_000;

    /// <summary>A day of each ad is read: the lookup still walks the ad's whole index page, without 1,000 buckets to build.</summary>
    private const int QueriedHours = 24;
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("cf-store-memory-").FullName;

    private string StorePath => Path.Combine(_directory, ClickStoreOptions.FileName);

    /// <summary>2M hour rows: ad i (store id i + 1, advertiser adv-{i % 50}) has one click in each of its 1,000 hours.</summary>
    private void Seed() => ScatteredStore.Seed(StorePath, Ads, HoursPerAd, Start, Advertiser);

    private static string Advertiser(int ad) => "adv-" + (ad % 50).ToString(CultureInfo.InvariantCulture);

    private static AdClicksQuery Query(int ad) => new(Advertiser(ad), "ad-" + ad.ToString(CultureInfo.InvariantCulture),
        Granularity.Hour, new TimeRange(Start, Start.AddHours(QueriedHours)));

    /// <summary>Reads every ad once, in a scattered order; returns how many answered with the seeded total.</summary>
    private static async Task<int> ReadAllAds(DuckDbClickStore store)
    {
        int right = 0;
        foreach (int ad in ScatteredStore.ReadOrder(Ads))
        {
            var clicks = await store.GetAdClicksAsync(Query(ad), TestContext.Current.CancellationToken);
            right += clicks?.Total.Clicks == QueriedHours ? 1 : 0;
        }
        return right;
    }

    [Fact]
    public async Task A_fixed_limit_too_small_for_the_indexes_answers_a_clear_error_naming_the_setting()
    {
        Seed();
        using var store = new DuckDbClickStore(new ClickStoreOptions { Path = StorePath, MemoryLimit = "16MB" });

        var error = await Assert.ThrowsAsync<QueryResourcesExhaustedException>(() => ReadAllAds(store));

        Assert.Contains("ClickStore:MemoryLimit", error.Message, StringComparison.Ordinal);
        Assert.Contains("memory limit 16MB", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sized automatically", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_automatic_limit_is_sized_to_the_indexed_rows_and_every_ad_answers_right()
    {
        Seed();
        using var store = new DuckDbClickStore(new ClickStoreOptions { Path = StorePath });

        // 2M hour rows + 2,000 ads + 2,000 series carry indexes: 192 MiB + 48 B a row (unless 60% of this machine is less).
        long expected = StoreMemory.AutoBytes((Ads * (long)HoursPerAd) + Ads + Ads, StoreMemory.Available());
        Assert.Equal(StoreMemory.Format(expected), store.MemoryLimit);
        Assert.Equal(Ads, await ReadAllAds(store));
    }

    [Fact]
    public async Task The_automatic_limit_grows_with_the_store_and_a_query_that_ran_out_retries_under_the_new_one()
    {
        Seed();
        using var store = new DuckDbClickStore(new ClickStoreOptions { Path = StorePath });
        string sized = store.MemoryLimit;
        Assert.False(store.RefreshMemoryLimit());

        // The store grows by a million rows while open (the consumer's writes do this over weeks).
        // (DuckDB.NET shares the open store's database instance with a connection on the same file.)
        ScatteredStore.Execute(StorePath, string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO clicks_minute (k, page, series, bucket_start, clicks, invalid_clicks)
            SELECT (a + 1) * 4294967296 + m, (a + 1) * {AdKey.PagesPerAd} + m // {AdKey.PageBuckets}, a + 1, epoch_ms(m * 60000), 1, 0
            FROM range(50) t(m), range({Ads}) s(a)
            """));

        Assert.True(store.RefreshMemoryLimit());
        Assert.NotEqual(sized, store.MemoryLimit);
        Assert.Equal(Ads, await ReadAllAds(store));
    }

    [Fact]
    public async Task A_query_that_runs_out_under_an_automatic_limit_the_store_has_outgrown_is_sized_again_and_answers()
    {
        Seed();
        // As if sized long ago at 16MB: the same reads fail under a fixed 16MB (the first test here).
        using var store = new DuckDbClickStore(new ClickStoreOptions { Path = StorePath, AutoStartLimit = "16MB" });
        Assert.Equal("16MB", store.MemoryLimit);

        Assert.Equal(Ads, await ReadAllAds(store));
        Assert.Equal(StoreMemory.Format(StoreMemory.AutoBytes((Ads * (long)HoursPerAd) + Ads + Ads, StoreMemory.Available())), store.MemoryLimit);
    }

    [Theory]
    [InlineData(0L, 8L << 30, 192L << 20)]
    [InlineData(10_000_000L, 8L << 30, (192L << 20) + 480_000_000L)]
    [InlineData(1_000_000_000L, 8L << 30, (long)((8L << 30) * 0.6))]
    [InlineData(1_000_000_000L, 100L << 20, 192L << 20)]
    public void The_automatic_limit_is_base_plus_index_bytes_capped_by_available_memory(long rows, long available, long limit) =>
        Assert.Equal(limit, StoreMemory.AutoBytes(rows, available));

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
