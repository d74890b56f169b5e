namespace ClickFunctions.Queries;

/// <summary>
/// Bucket boundaries in an advertiser's time zone, as UTC instants (docs/query-api.md, "Time zones";
/// docs/decisions/075-local-time-buckets-from-utc-rollups.md). Minute and hour buckets are elapsed minutes and hours
/// starting where the local clock shows a whole minute or hour (so a fall-back day has 25 hour buckets and a
/// spring-forward day 23; in a +05:30 zone hours start at UTC :30). Day, week (Monday) and month buckets start at
/// local midnight of their first day: a midnight the clock skips starts where the clock resumes, a midnight it shows
/// twice starts at its first occurrence.
/// </summary>
public static class LocalCalendar
{
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);

    /// <summary>Finds an IANA zone (<c>Europe/Berlin</c>, <c>UTC</c>); null for an unknown id or a Windows name.</summary>
    public static TimeZoneInfo? FindZone(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64)
        {
            return null;
        }
        if (string.Equals(id, "UTC", StringComparison.Ordinal) || string.Equals(id, "Etc/UTC", StringComparison.Ordinal))
        {
            return TimeZoneInfo.Utc;
        }
        // Zone ids are paths under the tz database; refuse anything that could walk out of it.
        if (id.Contains("..", StringComparison.Ordinal) || id.StartsWith('/') || id.Contains('\\', StringComparison.Ordinal))
        {
            return null;
        }
        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) && zone.HasIanaId ? zone : null;
    }

    /// <summary>The UTC instant that starts local wall-clock time <paramref name="local"/> (see the class summary).</summary>
    public static DateTimeOffset StartOfLocal(TimeZoneInfo zone, DateTime local)
    {
        ArgumentNullException.ThrowIfNull(zone);
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        // The offsets in force a day either side cover any transition at this local time.
        var before = zone.GetUtcOffset(local.AddDays(-1));
        var after = zone.GetUtcOffset(local.AddDays(1));
        var a = new DateTimeOffset(local.Ticks - before.Ticks, TimeSpan.Zero);
        var b = new DateTimeOffset(local.Ticks - after.Ticks, TimeSpan.Zero);
        var first = a < b ? a : b;
        var second = a < b ? b : a;
        // The earliest instant whose wall clock shows this local time or later.
        return LocalTicks(zone, first) >= local.Ticks ? first : second;
    }

    /// <summary>The instant with the offset the zone has then (what a response writes).</summary>
    public static DateTimeOffset InZone(TimeZoneInfo zone, DateTimeOffset instant)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return instant.ToOffset(zone.GetUtcOffset(instant));
    }

    /// <summary>The start of the bucket that holds <paramref name="instant"/>.</summary>
    public static DateTimeOffset Floor(TimeZoneInfo zone, Granularity granularity, DateTimeOffset instant)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = new DateTime(LocalTicks(zone, instant), DateTimeKind.Unspecified);
        switch (granularity)
        {
            case Granularity.Minute:
                // Every offset in use is whole minutes: local minutes are UTC minutes.
                return Clicks.TimeBuckets.Floor(instant, TimeSpan.TicksPerMinute);
            case Granularity.Hour:
                // The latest quarter hour at or before the instant whose wall clock shows a whole hour (offsets are
                // whole quarter hours in every zone in use; two hours back covers a transition inside the hour).
                var quarter = Clicks.TimeBuckets.Floor(instant, Quarter.Ticks);
                for (int i = 0; i <= 8; i++)
                {
                    var t = quarter - (Quarter * i);
                    if (LocalTicks(zone, t) % TimeSpan.TicksPerHour == 0)
                    {
                        return t;
                    }
                }
                return Clicks.TimeBuckets.Floor(instant, TimeSpan.TicksPerHour);
            default:
                var start = StartOfLocal(zone, FirstDay(granularity, local.Date));
                return start <= instant ? start : StartOfLocal(zone, FirstDay(granularity, PreviousPeriod(granularity, local.Date)));
        }
    }

    /// <summary>Whether <paramref name="instant"/> starts a bucket of this granularity in this zone.</summary>
    public static bool IsBoundary(TimeZoneInfo zone, Granularity granularity, DateTimeOffset instant) => Floor(zone, granularity, instant) == instant;

    /// <summary>The start of the bucket after the one starting at <paramref name="start"/> (a boundary).</summary>
    public static DateTimeOffset Next(TimeZoneInfo zone, Granularity granularity, DateTimeOffset start)
    {
        ArgumentNullException.ThrowIfNull(zone);
        switch (granularity)
        {
            case Granularity.Minute:
            case Granularity.Hour:
                if (granularity == Granularity.Minute)
                {
                    return start + granularity.Step();
                }
                // Offsets are whole quarter hours in every zone in use, so the next whole local hour is at most four
                // quarters on; a zone with odd historical offsets falls back to a plain hour.
                for (var t = start + Quarter; t <= start + TimeSpan.FromHours(1); t += Quarter)
                {
                    if (LocalTicks(zone, t) % TimeSpan.TicksPerHour == 0)
                    {
                        return t;
                    }
                }
                return start + TimeSpan.FromHours(1);
            default:
                var local = new DateTime(LocalTicks(zone, start), DateTimeKind.Unspecified).Date;
                return StartOfLocal(zone, NextPeriod(granularity, FirstDay(granularity, local)));
        }
    }

    /// <summary>Every bucket start in [from, to), then <paramref name="to"/>; both ends must be boundaries.</summary>
    public static List<DateTimeOffset> Boundaries(TimeZoneInfo zone, Granularity granularity, TimeRange range)
    {
        var boundaries = new List<DateTimeOffset> { range.From };
        for (var t = range.From; t < range.To;)
        {
            t = Next(zone, granularity, t);
            boundaries.Add(t < range.To ? t : range.To);
        }
        return boundaries;
    }

    private static long LocalTicks(TimeZoneInfo zone, DateTimeOffset instant) => instant.UtcTicks + zone.GetUtcOffset(instant).Ticks;

    private static DateTime FirstDay(Granularity granularity, DateTime date) => granularity switch
    {
        Granularity.Week => date.AddDays(-(((int)date.DayOfWeek + 6) % 7)),
        Granularity.Month => new DateTime(date.Year, date.Month, 1, 0, 0, 0, DateTimeKind.Unspecified),
        _ => date,
    };

    private static DateTime NextPeriod(Granularity granularity, DateTime first) => granularity switch
    {
        Granularity.Week => first.AddDays(7),
        Granularity.Month => first.AddMonths(1),
        _ => first.AddDays(1),
    };

    private static DateTime PreviousPeriod(Granularity granularity, DateTime date) => granularity switch
    {
        Granularity.Week => date.AddDays(-7),
        Granularity.Month => date.AddMonths(-1),
        _ => date.AddDays(-1),
    };
}
