using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;

namespace ClickFunctions.Queries;

/// <summary>
/// How an ad clicks query in any zone and granularity is answered from the UTC minute, hour and day rollups, in both
/// shapes (docs/decisions/075-local-time-buckets-from-utc-rollups.md): the local buckets' UTC boundaries
/// (<see cref="LocalCalendar"/>), each bucket split into the coarsest rollup rows that tile it exactly
/// (<see cref="QueryPlanner.ForTotals"/>), and those rows summed back into their bucket. A store reads, per rollup,
/// the rows starting inside <see cref="RangesOf"/> and hands each to <see cref="Add"/>; <see cref="Build"/> makes the
/// response.
/// </summary>
public sealed class AdClicksPlan
{
    private readonly AdClicksQuery _query;
    private readonly DateTimeOffset[] _boundaries;
    private readonly BucketCounts?[] _sums;
    private readonly TimeRange[][] _ranges = new TimeRange[3][];

    public AdClicksPlan(AdClicksQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        _query = query;
        _boundaries = [.. LocalCalendar.Boundaries(query.TimeZone, query.Granularity, query.Range)];
        _sums = new BucketCounts?[_boundaries.Length - 1];
        var byRollup = new List<TimeRange>[] { [], [], [] };
        for (int i = 0; i + 1 < _boundaries.Length; i++)
        {
            var bucket = new TimeRange(_boundaries[i], _boundaries[i + 1]);
            var segments = query.Granularity.IsRollup() && query.Granularity.IsAligned(bucket.From) && query.Granularity.IsAligned(bucket.To)
                ? [new QuerySegment(query.Granularity, bucket)]
                : QueryPlanner.ForTotals(bucket);
            foreach (var segment in segments)
            {
                var list = byRollup[(int)segment.Rollup];
                // Buckets are visited in time order: a segment continuing the previous one of its rollup merges with it.
                if (list.Count > 0 && list[^1].To == segment.Range.From)
                {
                    list[^1] = new TimeRange(list[^1].From, segment.Range.To);
                }
                else
                {
                    list.Add(segment.Range);
                }
            }
        }
        for (int r = 0; r < 3; r++)
        {
            _ranges[r] = [.. byRollup[r]];
        }
    }

    /// <summary>
    /// Whether every bucket boundary falls on a UTC quarter hour, so that no quarter hour straddles two buckets (false at
    /// minute granularity, or in a zone whose offset was once not a multiple of 15 minutes).
    /// </summary>
    public bool OnQuarterHours => Array.TrueForAll(_boundaries, b => b.ToUnixTimeSeconds() % 900 == 0);

    /// <summary>The disjoint, ascending UTC ranges whose rows of <paramref name="rollup"/> (minute, hour or day) the answer needs.</summary>
    public IReadOnlyList<TimeRange> RangesOf(Granularity rollup) => _ranges[(int)rollup];

    /// <summary>Adds one row of <paramref name="rollup"/> starting at <paramref name="start"/>; a row outside the plan's ranges is ignored.</summary>
    public void Add(Granularity rollup, DateTimeOffset start, long clicks, ReadOnlySpan<long> invalidByReasonSlot) =>
        AddWithin(_ranges[(int)rollup], start, clicks, invalidByReasonSlot);

    /// <summary>
    /// Adds a row starting at <paramref name="start"/> when it starts inside one of <paramref name="ranges"/> (disjoint,
    /// ascending): for a store that answers parts of the plan's ranges from another source, such as the embedded
    /// store's compacted quarter hours (docs/decisions/104), and must then count each row of those parts once.
    /// </summary>
    public void AddWithin(IReadOnlyList<TimeRange> ranges, DateTimeOffset start, long clicks, ReadOnlySpan<long> invalidByReasonSlot)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        if (!Contains(ranges, start))
        {
            return;
        }
        int bucket = Array.BinarySearch(_boundaries, start);
        bucket = bucket >= 0 ? bucket : ~bucket - 1;
        if (bucket < 0 || bucket >= _sums.Length)
        {
            return;
        }
        var sum = _sums[bucket] ??= new BucketCounts();
        sum.Clicks += clicks;
        for (int i = 0; i < invalidByReasonSlot.Length && i < BucketCounts.ReasonSlots; i++)
        {
            sum.InvalidByReason[i] += invalidByReasonSlot[i];
        }
    }

    /// <summary>
    /// The response: non-empty buckets ascending, each <c>final</c> when <paramref name="confirmed"/> (windows a
    /// reconciliation matched or corrected) covers it, and <c>finalThrough</c> the end of the latest confirmed window.
    /// </summary>
    public AdClicks Build(IReadOnlyList<TimeRange> confirmed)
    {
        ArgumentNullException.ThrowIfNull(confirmed);
        var merged = Merge(confirmed);
        var zone = _query.TimeZone;
        var total = new BucketCounts();
        var buckets = new List<ClickBucket>();
        for (int i = 0; i < _sums.Length; i++)
        {
            if (_sums[i] is not { } sum || sum.IsZero)
            {
                continue;
            }
            total.Add(sum);
            buckets.Add(new ClickBucket(LocalCalendar.InZone(zone, _boundaries[i]), sum.Clicks, sum.InvalidClicks)
            {
                InvalidByReason = InvalidReasons.ByCode(sum),
                Final = Covers(merged, new TimeRange(_boundaries[i], _boundaries[i + 1])),
            });
        }
        DateTimeOffset? finalThrough = merged.Count == 0 ? null : LocalCalendar.InZone(zone, merged.Max(r => r.To));
        return new AdClicks(
            _query.AdId,
            _query.AdvertiserId,
            _query.Granularity.Code(),
            zone.Id,
            LocalCalendar.InZone(zone, _query.Range.From),
            LocalCalendar.InZone(zone, _query.Range.To),
            finalThrough,
            ClickTotals.Of(total),
            buckets);
    }

    /// <summary>Overlapping or touching windows merged, ascending.</summary>
    public static List<TimeRange> Merge(IEnumerable<TimeRange> windows)
    {
        var merged = new List<TimeRange>();
        foreach (var w in windows.Where(w => !w.IsEmpty).OrderBy(w => w.From))
        {
            if (merged.Count > 0 && w.From <= merged[^1].To)
            {
                merged[^1] = new TimeRange(merged[^1].From, w.To > merged[^1].To ? w.To : merged[^1].To);
            }
            else
            {
                merged.Add(w);
            }
        }
        return merged;
    }

    private static bool Covers(List<TimeRange> merged, TimeRange bucket) => merged.Exists(w => w.From <= bucket.From && bucket.To <= w.To);

    private static bool Contains(IReadOnlyList<TimeRange> ranges, DateTimeOffset instant)
    {
        int lo = 0, hi = ranges.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (instant < ranges[mid].From)
            {
                hi = mid - 1;
            }
            else if (instant >= ranges[mid].To)
            {
                lo = mid + 1;
            }
            else
            {
                return true;
            }
        }
        return false;
    }
}
