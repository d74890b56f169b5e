using System.Security.Cryptography;
using System.Text;
using ClickFunctions.Aggregation;

namespace ClickFunctions.Reconciliation;

/// <summary>
/// Shards of ads for reconciling a large store without reading every bucket: the shard of a bucket is the first
/// <see cref="Digits"/> lowercase hex digits of SHA-256 over <c>advertiser|campaign|ad</c> (UTF-8), the same key as
/// <see cref="BucketKey"/> without the minute, so every minute of one ad (of one campaign) is in one shard. Ids never
/// contain <c>|</c> (they are unreserved URL characters), so the text is unambiguous. ADX computes the same value
/// with <c>substring(hash_sha256(strcat(AdvertiserId, "|", CampaignId, "|", AdId)), 0, 3)</c> (KQL
/// <c>hash_sha256()</c> returns the digest as lowercase hex).
/// </summary>
public static class BucketShards
{
    public const int Digits = 3;

    /// <summary>16^3 = 4,096 shards: at 10M active ads about 2,440 ads per shard.</summary>
    public const int Count = 4096;

    public static string Of(BucketKey key) => Of(key.AdvertiserId, key.CampaignId, key.AdId);

    public static string Of(string advertiserId, string campaignId, string adId)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(advertiserId + "|" + campaignId + "|" + adId), digest);
        return Convert.ToHexStringLower(digest[..2])[..Digits];
    }

    /// <summary>Totals per shard of the buckets of [<paramref name="from"/>, ...), as <see cref="ShardTotals"/> counts them.</summary>
    public static Dictionary<string, ShardTotals> Totals(IEnumerable<KeyValuePair<BucketKey, BucketCounts>> buckets, DateTimeOffset from)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        var totals = new Dictionary<string, ShardTotals>(StringComparer.Ordinal);
        foreach (var (key, counts) in buckets)
        {
            if (counts.Clicks == 0 && counts.InvalidClicks == 0)
            {
                continue;
            }
            string shard = Of(key);
            long minute = (long)(key.Minute - from).TotalMinutes;
            totals[shard] = totals.GetValueOrDefault(shard) + new ShardTotals(1, counts.Clicks, counts.InvalidClicks, (counts.Clicks + counts.InvalidClicks) * minute);
        }
        return totals;
    }
}

/// <summary>
/// What a shard holds in a window: buckets with any count, valid and invalid clicks, and all clicks weighted by their
/// minute's offset in the window (so clicks moved between minutes show). Compared before any per-ad row is read.
/// </summary>
public readonly record struct ShardTotals(long Buckets, long Clicks, long InvalidClicks, long MinuteWeighted)
{
    public static ShardTotals operator +(ShardTotals a, ShardTotals b) =>
        new(a.Buckets + b.Buckets, a.Clicks + b.Clicks, a.InvalidClicks + b.InvalidClicks, a.MinuteWeighted + b.MinuteWeighted);
}
