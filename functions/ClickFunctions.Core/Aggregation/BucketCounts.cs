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
    }

    public bool IsZero => Clicks == 0 && Array.TrueForAll(InvalidByReason, n => n == 0);
}
