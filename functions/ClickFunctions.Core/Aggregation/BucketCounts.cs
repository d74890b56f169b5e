using System.Runtime.InteropServices;
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
        var dimensions = Dimensions ??= new(DimensionCodes.Count);
        long clicks = reason == ClickReason.Valid ? 1 : 0;
        // A for loop over the enum's values, not foreach over the IReadOnlyList (an enumerator per click), and
        // CollectionsMarshal's ref into the entry instead of a lookup then an add (decision 093).
        for (int d = 0; d < DimensionCodes.Count; d++)
        {
            var dimension = (ClickDimension)d;
            ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(dimensions, (dimension, DimensionCodes.ValueOf(click, dimension)), out _);
            count ??= new DimensionCount();
            count.Clicks += clicks;
            count.InvalidClicks += 1 - clicks;
        }
    }

    public void AddDimension(ClickDimension dimension, string value, long clicks, long invalidClicks)
    {
        Dimensions ??= new(DimensionCodes.Count);
        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(Dimensions, (dimension, value), out _);
        count ??= new DimensionCount();
        count.Clicks += clicks;
        count.InvalidClicks += invalidClicks;
    }

    public bool IsZero => Clicks == 0 && Array.TrueForAll(InvalidByReason, n => n == 0);
}
