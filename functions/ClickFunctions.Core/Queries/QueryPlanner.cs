namespace ClickFunctions.Queries;

/// <summary>One piece of a plan: read rollup <see cref="Rollup"/> over <see cref="Range"/> (aligned to that rollup).</summary>
public readonly record struct QuerySegment(Granularity Rollup, TimeRange Range);

/// <summary>
/// Which rollup answers which range: the coarsest that answers exactly, so a query reads a number of rows
/// proportional to the buckets it returns, not to the minutes underneath.
/// </summary>
public static class QueryPlanner
{
    /// <summary>Buckets of a granularity come from that granularity's own rollup: it is the coarsest one whose buckets are not split.</summary>
    public static QuerySegment ForBuckets(AdClicksQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return new QuerySegment(query.Granularity, query.Range);
    }

    /// <summary>
    /// Totals over a minute-aligned range: whole days from the day rollup, the hours around them from the hour
    /// rollup, the minutes at the edges from the minute rollup. Segments are disjoint, cover the range, and come
    /// coarsest first; a year reads ~365 day rows plus at most 46 hour and 118 minute rows.
    /// </summary>
    public static IReadOnlyList<QuerySegment> ForTotals(TimeRange range)
    {
        if (!Granularity.Minute.IsAligned(range.From) || !Granularity.Minute.IsAligned(range.To))
        {
            throw new ArgumentException("A totals range must be aligned to whole UTC minutes.", nameof(range));
        }
        var segments = new List<QuerySegment>(5);
        Decompose(range, 0, segments);
        segments.Sort((a, b) => b.Rollup.CompareTo(a.Rollup) is var c and not 0 ? c : a.Range.From.CompareTo(b.Range.From));
        return segments;
    }

    private static void Decompose(TimeRange range, int level, List<QuerySegment> into)
    {
        if (range.IsEmpty)
        {
            return;
        }
        var rollup = Granularities.CoarsestFirst[level];
        if (rollup == Granularity.Minute)
        {
            into.Add(new QuerySegment(rollup, range));
            return;
        }
        var step = rollup.Step();
        var innerFrom = rollup.IsAligned(range.From) ? range.From : rollup.Floor(range.From) + step;
        var innerTo = rollup.Floor(range.To);
        if (innerFrom >= innerTo)
        {
            Decompose(range, level + 1, into);
            return;
        }
        into.Add(new QuerySegment(rollup, new TimeRange(innerFrom, innerTo)));
        Decompose(new TimeRange(range.From, innerFrom), level + 1, into);
        Decompose(new TimeRange(innerTo, range.To), level + 1, into);
    }
}
