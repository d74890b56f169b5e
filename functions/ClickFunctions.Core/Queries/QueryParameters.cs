using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ClickFunctions.Signing;

namespace ClickFunctions.Queries;

/// <summary>
/// Turns the query string of the two query endpoints into a validated query, or a short problem saying what is
/// wrong (the HTTP layer answers 400 with it). Times are ISO-8601 in UTC (<c>2026-11-29T04:00:00Z</c>; a time
/// without an offset is taken as UTC, any other offset is refused); <c>from</c> is inclusive, <c>to</c> exclusive.
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

    public static bool TryAdClicks(
        string advertiserId,
        string? adId,
        string? from,
        string? to,
        string? granularity,
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
            problem = "granularity is required: minute, hour or day";
            return false;
        }
        if (!Granularities.TryParse(granularity, out var g))
        {
            problem = $"granularity must be minute, hour or day, not '{Truncate(granularity)}'";
            return false;
        }
        if (!TryRange(from, to, g, g.MaxRange(), out var range, out problem))
        {
            return false;
        }
        query = new AdClicksQuery(advertiserId, adId!, g, range);
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
