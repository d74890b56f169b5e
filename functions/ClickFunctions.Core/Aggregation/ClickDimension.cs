using ClickFunctions.Clicks;

namespace ClickFunctions.Aggregation;

/// <summary>
/// What a click can be broken down by (docs/query-api.md, breakdowns). Stored as one byte in the embedded store's
/// dimension rollups: never renumber, only append.
/// </summary>
public enum ClickDimension : byte
{
    Country = 0,
    Device = 1,
    Os = 2,
    Browser = 3,
    Referrer = 4,
    Publisher = 5,
    Placement = 6,
    Creative = 7,
    SubId = 8,
}

/// <summary>One dimension value's counts, as a mutable accumulator (the embedded store's dimension corrections).</summary>
public sealed class DimensionCount
{
    public long Clicks { get; set; }

    public long InvalidClicks { get; set; }
}

public static class DimensionCodes
{
    public static readonly IReadOnlyList<ClickDimension> All = Enum.GetValues<ClickDimension>();

    /// <summary>How many dimensions there are (the slots of a bucket's dimension counts).</summary>
    public static readonly int Count = All.Count;

    /// <summary>The value a click without the optional signed field (pub, plc, crv, sub) is counted under.</summary>
    public const string None = "none";

    /// <summary>The value of a click that came without a referrer.</summary>
    public const string Direct = "direct";

    /// <summary>The stable snake_case code used in URLs (<c>by=</c>) and JSON.</summary>
    public static string Code(this ClickDimension dimension) => dimension switch
    {
        ClickDimension.Country => "country",
        ClickDimension.Device => "device",
        ClickDimension.Os => "os",
        ClickDimension.Browser => "browser",
        ClickDimension.Referrer => "referrer",
        ClickDimension.Publisher => "publisher",
        ClickDimension.Placement => "placement",
        ClickDimension.Creative => "creative",
        ClickDimension.SubId => "sub_id",
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };

    public static bool TryParse(string? code, out ClickDimension dimension)
    {
        foreach (var d in All)
        {
            if (string.Equals(d.Code(), code, StringComparison.Ordinal))
            {
                dimension = d;
                return true;
            }
        }
        dimension = default;
        return false;
    }

    private static string OrNone(string value) => string.IsNullOrEmpty(value) ? None : value;

    /// <summary>The click's value in <paramref name="dimension"/>, as counted (never empty).</summary>
    public static string ValueOf(ClickEvent click, ClickDimension dimension)
    {
        ArgumentNullException.ThrowIfNull(click);
        return ValueOf(DecodedClick.From(click), dimension);
    }

    internal static string ValueOf(in DecodedClick click, ClickDimension dimension) => dimension switch
    {
        ClickDimension.Country => click.Country,
        ClickDimension.Device => click.Device,
        ClickDimension.Os => click.Os,
        ClickDimension.Browser => click.Browser,
        ClickDimension.Referrer => string.IsNullOrEmpty(click.ReferrerHost) ? Direct : click.ReferrerHost,
        ClickDimension.Publisher => OrNone(click.Publisher),
        ClickDimension.Placement => OrNone(click.Placement),
        ClickDimension.Creative => OrNone(click.Creative),
        ClickDimension.SubId => OrNone(click.SubId),
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };
}
