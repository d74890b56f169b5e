using System.Security.Cryptography;
using System.Text;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;

namespace ClickFunctions.Azure.Kusto;

/// <summary>
/// Turns the aggregation step's buckets into <c>ClickBuckets</c> rows. The row id is a hash of the source, the batch
/// (partition and sequence range) and the bucket key, so a redelivered batch writes the same ids and the
/// <c>ClickBucketsDedup</c> view keeps one of each (docs/architecture.md, invariant 4).
/// </summary>
public static class BucketRows
{
    public const string StreamSource = "stream";
    public const string CorrectionSource = "correction";

    public static string BatchId(string partition, long firstSequence, long lastSequence) =>
        FormattableString.Invariant($"{partition}:{firstSequence}-{lastSequence}");

    public static List<BucketRow> From(IReadOnlyDictionary<BucketKey, BucketCounts> buckets, string source, string batchId)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        var rows = new List<BucketRow>(buckets.Count);
        foreach (var (key, counts) in buckets.OrderBy(b => b.Key.Minute).ThenBy(b => b.Key.AdId, StringComparer.Ordinal))
        {
            if (counts.IsZero)
            {
                continue;
            }
            rows.Add(new BucketRow(RowId(source, batchId, key), key.AdvertiserId, key.CampaignId, key.AdId, key.Minute,
                counts.Clicks, counts.InvalidClicks, Reasons(counts), source, batchId));
            AddDimensionRows(rows, key, counts, source, batchId);
        }
        return rows;
    }

    private static readonly SortedDictionary<string, long> NoReasons = new(StringComparer.Ordinal);

    /// <summary>
    /// One row per dimension value the bucket counted (decision 073): its counts in DimensionClicks /
    /// DimensionInvalidClicks, Clicks and InvalidClicks 0 so the bucket rollups and the reconciler read the same sums.
    /// </summary>
    private static void AddDimensionRows(List<BucketRow> rows, BucketKey key, BucketCounts counts, string source, string batchId)
    {
        if (counts.Dimensions is not { } dimensions)
        {
            return;
        }
        foreach (var ((dimension, value), count) in dimensions
            .OrderBy(d => d.Key.Dimension).ThenBy(d => d.Key.Value, StringComparer.Ordinal))
        {
            if (count.Clicks == 0 && count.InvalidClicks == 0)
            {
                continue;
            }
            rows.Add(new BucketRow(DimensionRowId(source, batchId, key, dimension, value), key.AdvertiserId, key.CampaignId, key.AdId, key.Minute,
                0, 0, NoReasons, source, batchId)
            {
                Dimension = dimension.Code(),
                DimensionValue = value,
                DimensionClicks = count.Clicks,
                DimensionInvalidClicks = count.InvalidClicks,
            });
        }
    }

    /// <summary>The id of a dimension row: the bucket's identity plus the dimension and its value.</summary>
    public static string DimensionRowId(string source, string batchId, BucketKey key, ClickDimension dimension, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string canonical = string.Join('\n', "cf-dim-v1", source, batchId, key.AdvertiserId, key.CampaignId, key.AdId,
            key.Minute.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), dimension.Code(), value);
        return Hash(canonical);
    }

    /// <summary>Invalid clicks by reason code, non-zero reasons only (corrections may be negative).</summary>
    public static SortedDictionary<string, long> Reasons(BucketCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var reasons = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int i = 1; i < BucketCounts.ReasonSlots; i++)
        {
            if (counts.InvalidByReason[i] != 0)
            {
                reasons[((ClickReason)i).Code()] = counts.InvalidByReason[i];
            }
        }
        return reasons;
    }

    public static string RowId(string source, string batchId, BucketKey key)
    {
        string canonical = string.Join('\n', "cf-row-v1", source, batchId, key.AdvertiserId, key.CampaignId, key.AdId,
            key.Minute.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Hash(canonical);
    }

    private static string Hash(string canonical)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(canonical), digest);
        return Convert.ToHexStringLower(digest[..16]);
    }
}
