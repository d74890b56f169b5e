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
    public DimensionCountCollection? Dimensions { get; private set; }

    /// <summary>Counts one click under <paramref name="reason"/> and under each of its dimension values.</summary>
    public void Add(ClickReason reason, ClickEvent click)
    {
        ArgumentNullException.ThrowIfNull(click);
        Add(reason, DecodedClick.From(click));
    }

    /// <summary>The same for a click the step decoded in place (<see cref="DecodedClick"/>, decision 097).</summary>
    internal void Add(ClickReason reason, in DecodedClick click)
    {
        Add(reason);
        var dimensions = Dimensions ??= new();
        long clicks = reason == ClickReason.Valid ? 1 : 0;
        for (int d = 0; d < DimensionCodes.Count; d++)
        {
            var dimension = (ClickDimension)d;
            dimensions.Add(dimension, DimensionCodes.ValueOf(in click, dimension), clicks, 1 - clicks);
        }
    }

    public void AddDimension(ClickDimension dimension, string value, long clicks, long invalidClicks) =>
        (Dimensions ??= new()).Add(dimension, value, clicks, invalidClicks);

    /// <summary>
    /// Back to an empty bucket for the step's next batch (decision 102): no clicks, no reasons, and the dimension
    /// collection kept but emptied (the step counts every click's dimensions, so a reused bucket gets them again).
    /// </summary>
    internal void Reset()
    {
        Clicks = 0;
        Array.Clear(InvalidByReason);
        Dimensions?.Clear();
    }

    public bool IsZero => Clicks == 0 && Array.TrueForAll(InvalidByReason, n => n == 0);
}
