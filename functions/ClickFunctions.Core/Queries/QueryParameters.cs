using ClickFunctions.Aggregation;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ClickFunctions.Signing;

namespace ClickFunctions.Queries;

/// <summary>
/// Turns the query string of the two query endpoints into a validated query, or a short problem saying what is
/// wrong (the HTTP layer answers 400 with it). Times are ISO-8601; without <c>tz</c> (and no configured zone) they
/// are UTC (<c>2026-11-29T04:00:00Z</c>; a time without an offset is taken as UTC, any other offset is refused). With a
/// zone, a date or a time without offset is local wall-clock time in that zone, and an explicit offset must be
/// <c>Z</c> or the zone's own offset at that instant. <c>from</c> is inclusive, <c>to</c> exclusive.
/// </summary>
public static class QueryParameters
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd",
    ];

    /// <summary>The widest range the advertiser listing accepts (it reads the day rollup for whole days).</summary>
    public static readonly TimeSpan MaxListingRange = TimeSpan.FromDays(3653);

    /// <summary>
    /// <paramref name="tz"/> is the request's <c>tz</c>; <paramref name="defaultZone"/> the advertiser's configured
    /// zone (null: UTC), used when the request names none.
    /// </summary>
    public static bool TryAdClicks(
        string advertiserId,
        string? adId,
        string? from,
        string? to,
        string? granularity,
        string? tz,
        string? defaultZone,
        [NotNullWhen(true)] out AdClicksQuery? query,
        [NotNullWhen(false)] out string? problem)
    {
        query = null;
        if (!ClickUrlFields.IsValidId(adId))
        {
            problem = "adId must be 1-64 characters of A-Z a-z 0-9 . _ ~ -";
            return false;
        }
        if (granularity is null)
        {
            problem = "granularity is required: minute, hour, day, week or month";
            return false;
        }
        if (!Granularities.TryParse(granularity, out var g))
        {
            problem = $"granularity must be minute, hour, day, week or month, not '{Truncate(granularity)}'";
            return false;
        }
        if (!TryZone(tz, defaultZone, out var zone, out problem))
        {
            return false;
        }
        if (!TryLocalRange(from, to, zone, g, g.MaxRange(), out var range, out problem))
        {
            return false;
        }
        query = new AdClicksQuery(advertiserId, adId!, g, range, zone);
        return true;
    }

    public static bool TryAdvertiserAds(
        string advertiserId,
        string? from,
        string? to,
        [NotNullWhen(true)] out AdvertiserAdsQuery? query,
        [NotNullWhen(false)] out string? problem)
    {
        query = null;
        if (!TryRange(from, to, Granularity.Minute, MaxListingRange, out var range, out problem))
        {
            return false;
        }
        query = new AdvertiserAdsQuery(advertiserId, range);
        return true;
    }

    /// <summary>The widest range a breakdown accepts.</summary>
    public static readonly TimeSpan MaxBreakdownRange = TimeSpan.FromDays(3653);

    /// <summary>
    /// The breakdown endpoints: <paramref name="adId"/> null for the advertiser's. from/to are whole quarter hours
    /// (the dimension rollups' finest bucket; every local hour in every zone in use is one) in the zone.
    /// </summary>
    public static bool TryBreakdown(
        string advertiserId,
        string? adId,
        string? by,
        string? from,
        string? to,
        string? tz,
        string? limit,
        string? defaultZone,
        [NotNullWhen(true)] out BreakdownQuery? query,
        [NotNullWhen(false)] out string? problem)
    {
        query = null;
        if (adId is not null && !ClickUrlFields.IsValidId(adId))
        {
            problem = "adId must be 1-64 characters of A-Z a-z 0-9 . _ ~ -";
            return false;
        }
        string dimensions = string.Join(", ", Aggregation.DimensionCodes.All.Select(d => d.Code())) + (adId is null ? ", ad, campaign" : "");
        if (string.IsNullOrEmpty(by))
        {
            problem = $"by is required: one of {dimensions}";
            return false;
        }
        Aggregation.ClickDimension? dimension = null;
        if (Aggregation.DimensionCodes.TryParse(by, out var d))
        {
            dimension = d;
        }
        else if (adId is not null || (by != BreakdownQuery.Ad && by != BreakdownQuery.Campaign))
        {
            problem = $"by must be one of {dimensions}, not '{Truncate(by)}'";
            return false;
        }
        int rowLimit = BreakdownQuery.DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out rowLimit) || rowLimit < 1 || rowLimit > BreakdownQuery.MaxLimit))
        {
            problem = $"limit must be a whole number from 1 to {BreakdownQuery.MaxLimit}, not '{Truncate(limit)}'";
            return false;
        }
        if (!TryZone(tz, defaultZone, out var zone, out problem))
        {
            return false;
        }
        if (!TryZonedRange(from, to, zone, out var range, out problem))
        {
            return false;
        }
        query = new BreakdownQuery(advertiserId, adId, by, dimension, range, zone, rowLimit);
        return true;
    }

    private static bool TryZonedRange(string? fromText, string? toText, TimeZoneInfo zone, out TimeRange range, [NotNullWhen(false)] out string? problem)
    {
        range = default;
        if (!TryZonedInstant("from", fromText, zone, out var from, out problem) || !TryZonedInstant("to", toText, zone, out var to, out problem))
        {
            return false;
        }
        if (from >= to)
        {
            problem = "from must be before to (from is inclusive, to exclusive)";
            return false;
        }
        foreach (var (name, instant) in new[] { ("from", from), ("to", to) })
        {
            if (instant.UtcTicks % (15 * TimeSpan.TicksPerMinute) != 0)
            {
                problem = $"{name} must be a whole quarter hour (e.g. {OffsetTimeJsonConverter.Format(LocalCalendar.InZone(zone, Clicks.TimeBuckets.Floor(instant, 15 * TimeSpan.TicksPerMinute)))})";
                return false;
            }
        }
        if (to - from > MaxBreakdownRange)
        {
            problem = $"the range is too large for a breakdown: at most {MaxBreakdownRange.TotalDays:0} days";
            return false;
        }
        range = new TimeRange(from, to);
        problem = null;
        return true;
    }

    /// <summary>The zone a request asks for: <paramref name="tz"/>, else the configured default, else UTC; unknown ids are a problem.</summary>
    public static bool TryZone(string? tz, string? defaultZone, [NotNullWhen(true)] out TimeZoneInfo? zone, [NotNullWhen(false)] out string? problem)
    {
        string? id = tz ?? defaultZone;
        if (id is null)
        {
            zone = TimeZoneInfo.Utc;
            problem = null;
            return true;
        }
        zone = LocalCalendar.FindZone(id);
        if (zone is null)
        {
            problem = tz is null
                ? $"the time zone configured for this advertiser, '{Truncate(id)}', is not an IANA time zone this host knows; pass tz= explicitly"
                : $"tz must be an IANA time zone such as America/New_York or UTC, not '{Truncate(id)}'";
            return false;
        }
        problem = null;
        return true;
    }

    /// <summary>
    /// A range whose ends are bucket boundaries of <paramref name="granularity"/> in <paramref name="zone"/> (for UTC,
    /// exactly the old rules).
    /// </summary>
    public static bool TryLocalRange(string? fromText, string? toText, TimeZoneInfo zone, Granularity granularity, TimeSpan maxRange, out TimeRange range, [NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(zone);
        range = default;
        if (zone == TimeZoneInfo.Utc && granularity.IsRollup())
        {
            return TryRange(fromText, toText, granularity, maxRange, out range, out problem);
        }
        if (!TryZonedInstant("from", fromText, zone, out var from, out problem) || !TryZonedInstant("to", toText, zone, out var to, out problem))
        {
            return false;
        }
        if (from >= to)
        {
            problem = "from must be before to (from is inclusive, to exclusive)";
            return false;
        }
        string unit = granularity.Code();
        foreach (var (name, instant) in new[] { ("from", from), ("to", to) })
        {
            if (!LocalCalendar.IsBoundary(zone, granularity, instant))
            {
                problem = $"{name} must start a {unit} in {zone.Id} for granularity={unit} (e.g. {OffsetTimeJsonConverter.Format(LocalCalendar.InZone(zone, LocalCalendar.Floor(zone, granularity, instant)))})";
                return false;
            }
        }
        if (to - from > maxRange + TimeSpan.FromDays(1))
        {
            problem = string.Create(CultureInfo.InvariantCulture,
                $"the range from {OffsetTimeJsonConverter.Format(LocalCalendar.InZone(zone, from))} to {OffsetTimeJsonConverter.Format(LocalCalendar.InZone(zone, to))} is too large for granularity={unit}: at most {maxRange.TotalDays:0} days; use a coarser granularity or a shorter range");
            return false;
        }
        range = new TimeRange(from, to);
        problem = null;
        return true;
    }

    private static bool TryZonedInstant(string name, string? text, TimeZoneInfo zone, out DateTimeOffset instant, [NotNullWhen(false)] out string? problem)
    {
        instant = default;
        if (string.IsNullOrEmpty(text))
        {
            problem = $"{name} is required (a local date or time in {zone.Id}, e.g. 2026-11-29 or 2026-11-29T00:00:00)";
            return false;
        }
        bool hasOffset = text.Length > 10 && (text.EndsWith('Z') || text.EndsWith('z') || text[^6] is '+' or '-');
        if (hasOffset)
        {
            if (!DateTimeOffset.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant))
            {
                problem = $"{name} must be an ISO-8601 time such as 2026-11-29T00:00:00 or 2026-11-29T00:00:00{OffsetTimeJsonConverter.Format(LocalCalendar.InZone(zone, DateTimeOffset.UtcNow))[19..]}, not '{Truncate(text)}'";
                return false;
            }
            if (instant.Offset != TimeSpan.Zero && instant.Offset != zone.GetUtcOffset(instant))
            {
                problem = $"{name} carries offset {Offset(instant.Offset)}, but {zone.Id} is at {Offset(zone.GetUtcOffset(instant))} then; give a local time without offset, the zone's offset, or Z";
                return false;
            }
            instant = instant.ToUniversalTime();
            problem = null;
            return true;
        }
        if (!DateTime.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            problem = $"{name} must be a local date or time in {zone.Id} such as 2026-11-29 or 2026-11-29T00:00:00, not '{Truncate(text)}'";
            return false;
        }
        instant = LocalCalendar.StartOfLocal(zone, local);
        problem = null;
        return true;
    }

    private static string Offset(TimeSpan offset) => (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString("hh\\:mm", CultureInfo.InvariantCulture);

    private static bool TryRange(string? fromText, string? toText, Granularity granularity, TimeSpan maxRange, out TimeRange range, [NotNullWhen(false)] out string? problem)
    {
        range = default;
        if (!TryInstant("from", fromText, out var from, out problem) || !TryInstant("to", toText, out var to, out problem))
        {
            return false;
        }
        if (from >= to)
        {
            problem = "from must be before to (from is inclusive, to exclusive)";
            return false;
        }
        string unit = granularity.Code();
        if (!granularity.IsAligned(from))
        {
            problem = $"from must be aligned to a whole {unit} for granularity={unit} (e.g. {Format(granularity.Floor(from))})";
            return false;
        }
        if (!granularity.IsAligned(to))
        {
            problem = $"to must be aligned to a whole {unit} for granularity={unit} (e.g. {Format(granularity.Floor(to))})";
            return false;
        }
        if (to - from > maxRange)
        {
            problem = string.Create(CultureInfo.InvariantCulture,
                $"the range from {Format(from)} to {Format(to)} is too large for granularity={unit}: at most {maxRange.TotalDays:0} days; use a coarser granularity or a shorter range");
            return false;
        }
        range = new TimeRange(from, to);
        problem = null;
        return true;
    }

    private static bool TryInstant(string name, string? text, out DateTimeOffset instant, [NotNullWhen(false)] out string? problem)
    {
        instant = default;
        if (string.IsNullOrEmpty(text))
        {
            problem = $"{name} is required (ISO-8601 UTC, e.g. 2026-11-29T00:00:00Z)";
            return false;
        }
        if (!DateTimeOffset.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant))
        {
            problem = $"{name} must be an ISO-8601 UTC time such as 2026-11-29T00:00:00Z, not '{Truncate(text)}'";
            return false;
        }
        if (instant.Offset != TimeSpan.Zero)
        {
            problem = $"{name} must be in UTC (end with Z), not offset {instant.Offset:hh\\:mm}";
            return false;
        }
        problem = null;
        return true;
    }

    private static string Format(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
