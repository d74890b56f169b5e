namespace ClickFunctions.Queries;

/// <summary>
/// The bucket sizes advertisers can ask for. Minute, hour and day each have their own UTC rollup table (their values
/// index the stores' rollup lists); week (from Monday) and month are local calendar buckets summed from those rollups.
/// </summary>
public enum Granularity
{
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

public static class Granularities
{
    public static readonly IReadOnlyList<Granularity> CoarsestFirst = [Granularity.Day, Granularity.Hour, Granularity.Minute];

    /// <summary>The stable lower-case name used in URLs and JSON.</summary>
    public static string Code(this Granularity granularity) => granularity switch
    {
        Granularity.Minute => "minute",
        Granularity.Hour => "hour",
        Granularity.Day => "day",
        Granularity.Week => "week",
        Granularity.Month => "month",
        _ => throw new ArgumentOutOfRangeException(nameof(granularity)),
    };

    /// <summary>Whether this granularity has a UTC rollup of its own (minute, hour, day).</summary>
    public static bool IsRollup(this Granularity granularity) => granularity <= Granularity.Day;

    /// <summary>The length of a UTC bucket of a rollup granularity (weeks and months have no fixed length).</summary>
    public static TimeSpan Step(this Granularity granularity) => granularity switch
    {
        Granularity.Minute => TimeSpan.FromMinutes(1),
        Granularity.Hour => TimeSpan.FromHours(1),
        Granularity.Day => TimeSpan.FromDays(1),
        _ => throw new ArgumentOutOfRangeException(nameof(granularity)),
    };

    /// <summary>
    /// The widest range one request may cover at this granularity, so that a response stays small (at most
    /// 10,080 minute, 8,784 hour or 3,653 day buckets) and a query never turns into a timeout.
    /// </summary>
    public static TimeSpan MaxRange(this Granularity granularity) => granularity switch
    {
        Granularity.Minute => TimeSpan.FromDays(7),
        Granularity.Hour => TimeSpan.FromDays(366),
        Granularity.Day or Granularity.Week or Granularity.Month => TimeSpan.FromDays(3653),
        _ => throw new ArgumentOutOfRangeException(nameof(granularity)),
    };

    public static bool TryParse(string? text, out Granularity granularity)
    {
        switch (text)
        {
            case "minute":
                granularity = Granularity.Minute;
                return true;
            case "hour":
                granularity = Granularity.Hour;
                return true;
            case "day":
                granularity = Granularity.Day;
                return true;
            case "week":
                granularity = Granularity.Week;
                return true;
            case "month":
                granularity = Granularity.Month;
                return true;
            default:
                granularity = default;
                return false;
        }
    }

    public static bool IsAligned(this Granularity granularity, DateTimeOffset instant) =>
        instant.Offset == TimeSpan.Zero && instant.UtcTicks % granularity.Step().Ticks == 0;

    /// <summary>The start of the bucket of this granularity that holds <paramref name="instant"/>.</summary>
    public static DateTimeOffset Floor(this Granularity granularity, DateTimeOffset instant) =>
        Clicks.TimeBuckets.Floor(instant, granularity.Step().Ticks);
}
