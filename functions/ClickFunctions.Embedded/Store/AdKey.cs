namespace ClickFunctions.Embedded.Store;

/// <summary>
/// How the store names and pages an ad. Identity is exact: the <c>ads</c> dictionary table maps the exact
/// (advertiser, ad) pair, by <see cref="Name"/>, to a dense id the store assigns in the transaction that first writes
/// the ad, and the <c>series</c> table maps (ad id, campaign) to a dense series id the same way. No hash decides which
/// rows are one ad. A bucket row's key is <c>(series id &lt;&lt; 32) + bucket number</c>; its page is
/// <c>ad id × PagesPerAd + bucket number / PageBuckets</c>, shared by every campaign of the ad, so one ad's buckets
/// over a range are a few equality lookups of the single-column <c>page</c> index whatever its campaigns. Dense ids
/// below 2^31 keep both keys in a BIGINT (a 64-bit hash needed a HUGEINT, and its ART lookups were slower).
/// </summary>
public static class AdKey
{
    /// <summary>
    /// The exact, injective name of (advertiser, ad) that the <c>ads</c> table indexes (a single-column index, which
    /// DuckDB answers equality lookups from): the advertiser's length, a colon, the advertiser, then the ad. Two
    /// different pairs never share a name, whatever characters the ids hold.
    /// </summary>
    public static string Name(string advertiserId, string adId)
    {
        ArgumentNullException.ThrowIfNull(advertiserId);
        ArgumentNullException.ThrowIfNull(adId);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{advertiserId.Length}:{advertiserId}{adId}");
    }

    /// <summary>Buckets per index page: a page is one ad's run of 1,024 consecutive minutes, hours or days.</summary>
    public const long PageBuckets = 1024;

    /// <summary>Pages per ad: 2^32 bucket numbers / <see cref="PageBuckets"/>.</summary>
    public const long PagesPerAd = (1L << 32) / PageBuckets;

    /// <summary>Bucket numbers (Unix minute, hour or day) are the low 32 bits of a row key.</summary>
    public const long BucketMask = (1L << 32) - 1;

    /// <summary>
    /// The page of a bucket, indexed on its own so one query fetches an ad's range with a few equality lookups
    /// (a day at minute: 1-2 pages; a month at hour: 1-2; a year at day: 1-2).
    /// </summary>
    public static long PageKey(int adId, long page) => (adId * PagesPerAd) + page;
}
