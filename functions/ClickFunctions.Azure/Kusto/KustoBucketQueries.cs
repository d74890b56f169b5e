using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Queries;

namespace ClickFunctions.Azure.Kusto;

/// <summary>
/// The query API reads ADX through the embedded Kusto/*.kql with typed query parameters, with the same contract as
/// the local host (docs/query-api.md; decision 074): local-time buckets in any IANA zone and week/month buckets are
/// tiled from the UTC minute, hour and day rollups by the same <see cref="AdClicksPlan"/> the embedded store uses;
/// invalid clicks by reason come from the rollups' reason columns; breakdowns from the dimension views (decision 073).
/// Every query is scoped to the authenticated advertiser (the app's identity sees all rows; it filters itself).
/// <c>final</c> and <c>finalThrough</c> come from the windows the reconciler confirmed (<see cref="KustoReconciledWindows"/>,
/// decision 095), read beside the buckets and handed to the same <see cref="AdClicksPlan.Build"/> as the embedded store's.
/// </summary>
public sealed class KustoBucketQueries(KustoClient kusto) : IClickQueries
{
    private readonly KustoReconciledWindows _windows = new(kusto);

    /// <summary>The rollups' reason columns (infra/kusto/02-views.kql), one per invalid <see cref="ClickReason"/>.</summary>
    public static readonly IReadOnlyList<(ClickReason Reason, string Column)> ReasonColumns =
    [
        (ClickReason.BotUserAgent, "BotUserAgent"),
        (ClickReason.MissingUserAgent, "MissingUserAgent"),
        (ClickReason.HeadRequest, "HeadRequest"),
        (ClickReason.Prefetch, "Prefetch"),
        (ClickReason.LinkPreview, "LinkPreview"),
        (ClickReason.Duplicate, "Duplicate"),
        (ClickReason.ClickFlooding, "ClickFlooding"),
        (ClickReason.DataCentre, "DataCentre"),
    ];

    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    public async ValueTask<AdClicks?> GetAdClicksAsync(AdClicksQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var plan = new AdClicksPlan(query);
        // The confirmed windows of the range: one small query, sent alongside the buckets'.
        var confirmed = _windows.ReadAsync(query.Range, cancellationToken);
        var rows = kusto.QueryAsync(KustoQueries.AdClicks, new Dictionary<string, KustoParameter>(StringComparer.Ordinal)
        {
            ["advertiserId"] = KustoParameter.Text(query.AdvertiserId),
            ["adId"] = KustoParameter.Text(query.AdId),
            ["fromTime"] = KustoParameter.Time(query.Range.From),
            ["toTime"] = KustoParameter.Time(query.Range.To),
            ["minuteHours"] = Seconds(Units(plan.RangesOf(Granularity.Minute), Granularity.Hour)),
            ["hourDays"] = Seconds(Units(plan.RangesOf(Granularity.Hour), Granularity.Day)),
            ["days"] = Seconds(Units(plan.RangesOf(Granularity.Day), Granularity.Day)),
        }, cancellationToken);
        await Task.WhenAll(confirmed, rows).ConfigureAwait(false);
        var table = await rows.ConfigureAwait(false);
        int kind = table.Ordinal("Kind"), start = table.Ordinal("BucketStart"), clicks = table.Ordinal("Clicks");
        var reasonOrdinals = ReasonColumns.Select(r => ((int)r.Reason, table.Ordinal(r.Column))).ToArray();
        bool known = false;
        var slots = new long[BucketCounts.ReasonSlots];
        foreach (var row in table.Rows)
        {
            Granularity? rollup = KustoTable.GetString(row[kind]) switch
            {
                "minute" => Granularity.Minute,
                "hour" => Granularity.Hour,
                "day" => Granularity.Day,
                _ => null,
            };
            if (rollup is null)
            {
                known = true;
                continue;
            }
            Array.Clear(slots);
            foreach (var (slot, ordinal) in reasonOrdinals)
            {
                slots[slot] = KustoTable.GetInt64(row[ordinal]) ?? 0;
            }
            var bucketStart = KustoTable.GetDateTime(row[start]) ?? throw new KustoException("A bucket row without BucketStart.");
            plan.Add(rollup.Value, bucketStart, KustoTable.GetInt64(row[clicks]) ?? 0, slots);
        }
        var windows = await confirmed.ConfigureAwait(false);
        // Every ad with a row in the day rollup has its 'known' row; a query whose plan reads no day rows still learns it.
        return known ? plan.Build(windows) : null;
    }

    public async ValueTask<Breakdown?> GetBreakdownAsync(BreakdownQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var table = await kusto.QueryAsync(KustoQueries.Load("Breakdown"), new Dictionary<string, KustoParameter>(StringComparer.Ordinal)
        {
            ["advertiserId"] = KustoParameter.Text(query.AdvertiserId),
            ["adId"] = KustoParameter.Text(query.AdId ?? ""),
            ["breakdownBy"] = KustoParameter.Text(query.Dimension is { } d ? d.Code() : query.By),
            ["fromTime"] = KustoParameter.Time(query.Range.From),
            ["toTime"] = KustoParameter.Time(query.Range.To),
            ["maxRows"] = KustoParameter.Number(query.Limit),
        }, cancellationToken).ConfigureAwait(false);
        int kind = table.Ordinal("Kind"), value = table.Ordinal("Value"), clicks = table.Ordinal("Clicks"), invalid = table.Ordinal("InvalidClicks");
        bool known = query.AdId is null;
        var kept = new List<BreakdownRow>();
        BreakdownRow? rest = null;
        foreach (var row in table.Rows)
        {
            var entry = new BreakdownRow(KustoTable.GetString(row[value]) ?? "", KustoTable.GetInt64(row[clicks]) ?? 0, KustoTable.GetInt64(row[invalid]) ?? 0);
            switch (KustoTable.GetString(row[kind]))
            {
                case "known":
                    known = true;
                    break;
                case "rest":
                    rest = entry;
                    break;
                default:
                    kept.Add(entry);
                    break;
            }
        }
        if (!known)
        {
            return null;
        }
        // The service ranked and cut; the order and the fold of the rest into "other" follow Breakdown.Create exactly.
        kept.Sort(Breakdown.Order);
        if (rest is not null)
        {
            int existing = kept.FindIndex(r => r.Value == BreakdownQuery.Other);
            if (existing >= 0)
            {
                kept[existing] = new BreakdownRow(BreakdownQuery.Other, kept[existing].Clicks + rest.Clicks, kept[existing].InvalidClicks + rest.InvalidClicks);
            }
            else
            {
                kept.Add(rest with { Value = BreakdownQuery.Other });
            }
        }
        var zone = query.Zone;
        return new Breakdown(query.By, query.AdId, query.AdvertiserId, zone.Id, LocalCalendar.InZone(zone, query.Range.From), LocalCalendar.InZone(zone, query.Range.To), kept);
    }

    public async ValueTask<AdvertiserAds> ListAdsAsync(AdvertiserAdsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var table = await kusto.QueryAsync(KustoQueries.AdvertiserAds, new Dictionary<string, KustoParameter>(StringComparer.Ordinal)
        {
            ["advertiserId"] = KustoParameter.Text(query.AdvertiserId),
            ["fromTime"] = KustoParameter.Time(query.Range.From),
            ["toTime"] = KustoParameter.Time(query.Range.To),
        }, cancellationToken).ConfigureAwait(false);
        int ad = table.Ordinal("AdId"), campaign = table.Ordinal("CampaignId"), clicks = table.Ordinal("Clicks"), invalid = table.Ordinal("InvalidClicks");
        var ads = table.Rows.Select(r => new AdTotals(KustoTable.GetString(r[ad]) ?? "", KustoTable.GetString(r[campaign]) ?? "",
            KustoTable.GetInt64(r[clicks]) ?? 0, KustoTable.GetInt64(r[invalid]) ?? 0)).ToList();
        ads.Sort(AdvertiserAds.Order);
        return new AdvertiserAds(query.AdvertiserId, query.Range.From.UtcDateTime, query.Range.To.UtcDateTime, ads);
    }

    /// <summary>The starts of every <paramref name="unit"/> (UTC hour or day) that one of <paramref name="ranges"/> touches, ascending.</summary>
    public static IReadOnlyList<DateTimeOffset> Units(IReadOnlyList<TimeRange> ranges, Granularity unit)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var units = new SortedSet<DateTimeOffset>();
        foreach (var range in ranges)
        {
            for (var t = unit.Floor(range.From); t < range.To; t += unit.Step())
            {
                units.Add(t);
            }
        }
        return [.. units];
    }

    /// <summary>A dynamic array of Unix seconds: whole numbers only, so the literal needs no escaping.</summary>
    private static KustoParameter Seconds(IEnumerable<DateTimeOffset> instants) =>
        new("dynamic([" + string.Join(",", instants.Select(t => ((long)(t - Epoch).TotalSeconds).ToString(CultureInfo.InvariantCulture))) + "])");
}
