namespace ClickFunctions.Embedded.Store;

/// <summary>
/// A stable 64-bit key for (advertiser, ad). Bucket rows are keyed by <c>(ad key &lt;&lt; 32) + bucket number</c> in one
/// HUGEINT primary key, so one ad's buckets over a range are one contiguous key range of that single-column index.
/// Rows also keep the advertiser and ad ids, and every query filters on them too, so a hash collision can never
/// show one advertiser another's counts.
/// </summary>
public static class AdKey
{
    /// <summary>FNV-1a 64 over the UTF-16 code units of "advertiser\nad": stable across processes and versions.</summary>
    public static long Of(string advertiserId, string adId)
    {
        ArgumentNullException.ThrowIfNull(advertiserId);
        ArgumentNullException.ThrowIfNull(adId);
        ulong hash = 14695981039346656037;
        foreach (char c in advertiserId)
        {
            hash = (hash ^ c) * 1099511628211;
        }
        hash = (hash ^ '\n') * 1099511628211;
        foreach (char c in adId)
        {
            hash = (hash ^ c) * 1099511628211;
        }
        return unchecked((long)hash);
    }

    /// <summary>Buckets per index page: a page is one ad's run of 1,024 consecutive minutes, hours or days.</summary>
    public const long PageBuckets = 1024;

    /// <summary>Pages per ad key: 2^32 bucket numbers / <see cref="PageBuckets"/>.</summary>
    public const long PagesPerAd = (1L << 32) / PageBuckets;

    /// <summary>
    /// The page of a bucket, indexed on its own so one query fetches an ad's range with a few equality lookups
    /// (a day at minute: 1-2 pages; a month at hour: 1-2; a year at day: 1-2).
    /// </summary>
    public static System.Numerics.BigInteger PageKey(long adKey, long page) =>
        (new System.Numerics.BigInteger(adKey) * PagesPerAd) + page;

    /// <summary>The HUGEINT key of one bucket: the ad key in the high bits, the bucket number (Unix minute, hour or day) below.</summary>
    public static System.Numerics.BigInteger RowKey(long adKey, long bucketNumber) =>
        (new System.Numerics.BigInteger(adKey) << 32) + bucketNumber;
}
