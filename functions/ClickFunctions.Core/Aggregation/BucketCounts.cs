using ClickFunctions.Clicks;

namespace ClickFunctions.Aggregation;

/// <summary>Counts of one bucket: valid clicks, and invalid clicks by reason (index = <see cref="ClickReason"/>).</summary>
public sealed class BucketCounts
{
    public const int ReasonSlots = (int)ClickReasons.MaxDefined + 1;

    public long Clicks { get; set; }

    /// <summary>Invalid clicks by reason; slot 0 (Valid) stays zero.</summary>
    public long[] InvalidByReason { get; } = new long[ReasonSlots];

    public long InvalidClicks
    {
        get
        {
            long sum = 0;
            foreach (long n in InvalidByReason)
            {
                sum += n;
            }
            return sum;
        }
    }

    public void Add(ClickReason reason, long count = 1)
    {
        if (reason == ClickReason.Valid)
        {
            Clicks += count;
        }
        else
        {
            InvalidByReason[(int)reason] += count;
        }
    }

    public void Add(BucketCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Clicks += other.Clicks;
        for (int i = 0; i < ReasonSlots; i++)
        {
            InvalidByReason[i] += other.InvalidByReason[i];
        }
        if (other.Dimensions is { } dimensions)
        {
            foreach (var (key, count) in dimensions)
            {
                AddDimension(key.Dimension, key.Value, count.Clicks, count.InvalidClicks);
            }
        }
    }

    /// <summary>
    /// The bucket's clicks by dimension value (valid and invalid), or null when nothing recorded them (a correction
    /// delta, a bucket read back from a store). The embedded store rolls these into its dimension tables.
    /// </summary>
    public Dictionary<(ClickDimension Dimension, string Value), DimensionCount>? Dimensions { get; private set; }

    /// <summary>Counts one click under <paramref name="reason"/> and under each of its dimension values.</summary>
    public void Add(ClickReason reason, ClickEvent click)
    {
        ArgumentNullException.ThrowIfNull(click);
        Add(reason);
        Dimensions ??= [];
        foreach (var dimension in DimensionCodes.All)
        {
            AddDimension(dimension, DimensionCodes.ValueOf(click, dimension), reason == ClickReason.Valid ? 1 : 0, reason == ClickReason.Valid ? 0 : 1);
        }
    }

    public void AddDimension(ClickDimension dimension, string value, long clicks, long invalidClicks)
    {
        Dimensions ??= [];
        if (!Dimensions.TryGetValue((dimension, value), out var count))
        {
            count = new DimensionCount();
            Dimensions.Add((dimension, value), count);
        }
        count.Clicks += clicks;
        count.InvalidClicks += invalidClicks;
    }

    public bool IsZero => Clicks == 0 && Array.TrueForAll(InvalidByReason, n => n == 0);
}
