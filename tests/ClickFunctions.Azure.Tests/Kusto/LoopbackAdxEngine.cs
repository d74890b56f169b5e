using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Clicks;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>
/// The data side of the loopback ADX server for the query contract: it keeps what the app actually ingested and
/// answers the app's own queries from it, as the database the infra scripts declare would.
/// <list type="bullet">
/// <item>Ingestion: each streaming request is read with the table's JSON mapping parsed from infra/kusto/01-tables.kql
/// (path, column, datatype), as ADX applies it: a property the mapping does not name is dropped, a missing one is
/// null, a value that does not convert is an error ("Ingestion mappings", https://learn.microsoft.com/kusto/management/mappings).
/// The table name and mapping name in the request must be the declared ones.</item>
/// <item>Views: ClickBucketsDedup is <c>take_any(*) by RowId</c>; the rollups and dimension views are the
/// summarize of infra/kusto/02-views.kql over it (sums by advertiser, campaign, ad, bin; reason columns from
/// InvalidByReason; dimension rows counted by DimensionClicks/DimensionInvalidClicks).</item>
/// <item>Queries: the request's csl must be one of the app's embedded Kusto/*.kql files; every parameter its
/// <c>declare query_parameters</c> names must come with a literal of the declared type ("Query parameters declaration
/// statement", https://learn.microsoft.com/kusto/query/query-parameters-statement), else the answer is a 400 the app
/// sees as a permanent failure. The file's semantics are evaluated over the views above. Results go through the
/// server's 500,000-record / 64 MB truncation (<see cref="LoopbackKusto.Truncate"/>).</item>
/// </list>
/// Queries the engine does not know fall through to the server's scripted expectations.
/// </summary>
public sealed partial class LoopbackAdxEngine
{
    private const string BucketTable = "ClickBuckets";
    private const string WindowTable = "ReconciledWindows";
    private readonly Dictionary<string, (string Name, List<(string Column, string Path, string Type)> Columns)> _mappings = new(StringComparer.Ordinal);
    private readonly List<Dictionary<string, object?>> _rows = [];
    private readonly List<Dictionary<string, object?>> _windows = [];
    private readonly Lock _gate = new();

    public LoopbackAdxEngine()
    {
        string tables = File.ReadAllText(Path.Combine(Infrastructure.TestPaths.RepoRoot, "infra", "kusto", "01-tables.kql"));
        foreach (Match m in MappingCommand().Matches(tables))
        {
            using var json = JsonDocument.Parse(m.Groups["json"].Value);
            _mappings[m.Groups["table"].Value] = (m.Groups["name"].Value,
                [.. json.RootElement.EnumerateArray().Select(e => (e.GetProperty("column").GetString()!, e.GetProperty("path").GetString()!, e.GetProperty("datatype").GetString()!))]);
        }
        if (!_mappings.ContainsKey(BucketTable) || !_mappings.ContainsKey(WindowTable))
        {
            throw new InvalidOperationException("01-tables.kql lacks the JSON ingestion mapping of ClickBuckets or ReconciledWindows.");
        }
    }

    /// <summary>The rows ingested into ReconciledWindows (each recorded run, re-runs included).</summary>
    public int WindowRowCount
    {
        get
        {
            lock (_gate)
            {
                return _windows.Count;
            }
        }
    }

    /// <summary>What went wrong with a request (the test asserts there is nothing).</summary>
    public List<string> Problems { get; } = [];

    public int RowCount
    {
        get
        {
            lock (_gate)
            {
                return _rows.Count;
            }
        }
    }

    /// <summary>Attaches the engine to the server: ingestion into it, and its answers to the queries it knows.</summary>
    public void Attach(LoopbackKusto server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.IngestSink = Ingest;
        server.QueryAnswer = Answer;
    }

    public void Ingest(RecordedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = _mappings.FirstOrDefault(t => request.PathAndQuery == $"/v1/rest/ingest/clicks/{t.Key}?streamFormat=MultiJson&mappingName={t.Value.Name}");
        if (target.Key is null)
        {
            Fail($"ingestion to {request.PathAndQuery}, not a declared table with its declared mapping");
            return;
        }
        IngestRows(target.Key, target.Value.Name, request.Body);
    }

    /// <summary>
    /// MultiJson records into <paramref name="table"/> through its declared mapping <paramref name="mapping"/>: a
    /// streaming request's body, or a queued blob when the loopback Data Management service's ingestor takes it.
    /// </summary>
    public void IngestRows(string table, string mapping, string multiJson)
    {
        ArgumentNullException.ThrowIfNull(multiJson);
        if (!_mappings.TryGetValue(table, out var declared) || declared.Name != mapping)
        {
            Fail($"ingestion into {table} with mapping {mapping}, not a declared table with its declared mapping");
            return;
        }
        var rows = new List<Dictionary<string, object?>>();
        foreach (string line in multiJson.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                Fail("a MultiJson record that is not an object: " + line);
                return;
            }
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (column, path, type) in declared.Columns)
            {
                // "$.name": a property of the record, matched case-sensitively.
                row[column] = document.RootElement.TryGetProperty(path[2..], out var value) && value.ValueKind != JsonValueKind.Null
                    ? Convert(value, type, column) : null;
            }
            rows.Add(row);
        }
        lock (_gate)
        {
            (table == BucketTable ? _rows : _windows).AddRange(rows);
        }
    }

    private object? Convert(JsonElement value, string type, string column)
    {
        try
        {
            return type switch
            {
                "string" => value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText(),
                "long" => value.ValueKind == JsonValueKind.Number ? value.GetInt64() : long.Parse(value.GetString()!, CultureInfo.InvariantCulture),
                "datetime" => DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                "dynamic" => value.Clone(),
                _ => throw new FormatException("unknown datatype " + type),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            Fail($"column {column} ({type}) cannot take {value.GetRawText()}: {e.Message}");
            return null;
        }
    }

    private void Fail(string problem)
    {
        lock (_gate)
        {
            Problems.Add(problem);
        }
    }

    // ---- the views of 02-views.kql ----

    private sealed record Rollup(string AdvertiserId, string CampaignId, string AdId, DateTimeOffset BucketStart, long Clicks, long InvalidClicks, long[] Reasons);

    private sealed record DimensionRollup(string AdvertiserId, string CampaignId, string AdId, string Dimension, string Value, DateTimeOffset BucketStart, long Clicks, long InvalidClicks);

    private List<Dictionary<string, object?>> Dedup()
    {
        lock (_gate)
        {
            // take_any(*) by RowId: the copies of a row are identical, so the first is as good as any.
            return [.. _rows.GroupBy(r => (string?)r["RowId"] ?? "").Select(g => g.First())];
        }
    }

    private static DateTimeOffset Bin(DateTimeOffset t, TimeSpan unit) => new(t.UtcTicks - (t.UtcTicks % unit.Ticks), TimeSpan.Zero);

    private static long Long(object? value) => value is long l ? l : 0;

    private static long Reason(object? bag, string code) =>
        bag is JsonElement { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(code, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;

    private List<Rollup> Rollups(TimeSpan unit) =>
        [.. Dedup()
            .GroupBy(r => ((string?)r["AdvertiserId"] ?? "", (string?)r["CampaignId"] ?? "", (string?)r["AdId"] ?? "", Bin((DateTimeOffset)r["BucketStart"]!, unit)))
            .Select(g => new Rollup(g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Key.Item4, g.Sum(r => Long(r["Clicks"])), g.Sum(r => Long(r["InvalidClicks"])),
                [.. KustoBucketQueries.ReasonColumns.Select(c => g.Sum(r => Reason(r["InvalidByReason"], c.Reason.Code())))]))];

    private List<DimensionRollup> Dimensions(TimeSpan unit) =>
        [.. Dedup()
            .Where(r => !string.IsNullOrEmpty((string?)r["Dimension"]))
            .GroupBy(r => ((string)r["AdvertiserId"]!, (string)r["CampaignId"]!, (string)r["AdId"]!, (string)r["Dimension"]!, (string?)r["DimensionValue"] ?? "", Bin((DateTimeOffset)r["BucketStart"]!, unit)))
            .Select(g => new DimensionRollup(g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Key.Item4, g.Key.Item5, g.Key.Item6, g.Sum(r => Long(r["DimensionClicks"])), g.Sum(r => Long(r["DimensionInvalidClicks"]))))];

    // ---- the app's queries ----

    private static readonly string[] KnownQueries = ["AdClicks", "Breakdown", "AdvertiserAds", "ReconciledWindows", "StoredShardTotals", "StoredBucketsInShards"];

    public string? Answer(RecordedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var body = JsonDocument.Parse(request.Body);
        string csl = body.RootElement.GetProperty("csl").GetString() ?? "";
        string? name = KnownQueries.FirstOrDefault(n => KustoQueries.Load(n) == csl);
        if (name is null)
        {
            return null;
        }
        var given = body.RootElement.GetProperty("properties").GetProperty("Parameters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
        var parameters = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (Match declared in DeclaredParameter().Matches(DeclareLine().Match(csl).Groups[1].Value))
        {
            string parameter = declared.Groups["name"].Value, type = declared.Groups["type"].Value;
            if (!given.TryGetValue(parameter, out var literal))
            {
                return Refuse($"query parameter '{parameter}' was not provided");
            }
            object? parsed = ParseLiteral(literal, type);
            if (parsed is null)
            {
                return Refuse($"query parameter '{parameter}' of type {type} cannot take '{literal}'");
            }
            parameters[parameter] = parsed;
        }
        return name switch
        {
            "AdClicks" => AdClicks(parameters),
            "Breakdown" => Breakdown(parameters),
            "ReconciledWindows" => ReconciledWindows(parameters),
            "StoredShardTotals" => StoredShardTotals(parameters),
            "StoredBucketsInShards" => StoredBucketsInShards(parameters),
            _ => AdvertiserAds(parameters),
        };
    }

    private string? Refuse(string problem)
    {
        Fail(problem);
        return null;
    }

    private static object? ParseLiteral(string literal, string type)
    {
        switch (type)
        {
            case "string":
                return literal;
            case "long" when literal.StartsWith("long(", StringComparison.Ordinal) && literal.EndsWith(')'):
                return long.TryParse(literal[5..^1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) ? l : null;
            case "datetime" when literal.StartsWith("datetime(", StringComparison.Ordinal) && literal.EndsWith(')'):
                return DateTimeOffset.TryParse(literal[9..^1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
            case "dynamic" when literal.StartsWith("dynamic(", StringComparison.Ordinal) && literal.EndsWith(')'):
                try
                {
                    using var json = JsonDocument.Parse(literal[8..^1]);
                    return json.RootElement.Clone();
                }
                catch (JsonException)
                {
                    return null;
                }
            default:
                return null;
        }
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);

    private static HashSet<long> Set(object dynamic) =>
        [.. ((JsonElement)dynamic).EnumerateArray().Select(e => e.GetInt64())];

    private static long Seconds(DateTimeOffset t) => t.ToUnixTimeSeconds();

    private static readonly (string, string)[] AdClicksColumns =
        [("Kind", "string"), ("BucketStart", "datetime"), ("Clicks", "long"), ("InvalidClicks", "long"), .. KustoBucketQueries.ReasonColumns.Select(c => (c.Column, "long"))];

    /// <summary>AdClicks.kql: the rows of each rollup whose coarser unit is listed, of the advertiser's ad, summed by kind and start; the 'known' row.</summary>
    private string AdClicks(Dictionary<string, object> p)
    {
        string advertiser = (string)p["advertiserId"], ad = (string)p["adId"];
        var from = (DateTimeOffset)p["fromTime"];
        var to = (DateTimeOffset)p["toTime"];
        var sources = new (string Kind, TimeSpan Unit, TimeSpan KeyUnit, HashSet<long> Keys)[]
        {
            ("minute", TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), Set(p["minuteHours"])),
            ("hour", TimeSpan.FromHours(1), TimeSpan.FromDays(1), Set(p["hourDays"])),
            ("day", TimeSpan.FromDays(1), TimeSpan.FromDays(1), Set(p["days"])),
        };
        var rows = new List<object?[]>();
        foreach (var (kind, unit, keyUnit, keys) in sources)
        {
            var selected = Rollups(unit)
                .Where(r => r.BucketStart >= from && r.BucketStart < to && keys.Contains(Seconds(Bin(r.BucketStart, keyUnit))))
                .Where(r => r.AdvertiserId == advertiser && r.AdId == ad)
                .GroupBy(r => r.BucketStart);
            rows.AddRange(selected.Select(g => (object?[])[kind, Iso(g.Key), g.Sum(r => r.Clicks), g.Sum(r => r.InvalidClicks),
                .. Enumerable.Range(0, KustoBucketQueries.ReasonColumns.Count).Select(i => (object?)g.Sum(r => r.Reasons[i]))]));
        }
        if (Rollups(TimeSpan.FromDays(1)).FirstOrDefault(r => r.AdvertiserId == advertiser && r.AdId == ad) is { } known)
        {
            rows.Add(["known", Iso(known.BucketStart), 0L, 0L, .. KustoBucketQueries.ReasonColumns.Select(_ => (object?)0L)]);
        }
        rows.Sort((a, b) => string.CompareOrdinal((string)a[0]!, (string)b[0]!) is var c and not 0 ? c : string.CompareOrdinal((string)a[1]!, (string)b[1]!));
        return V2Responses.WithPrimaryResult(AdClicksColumns, [.. rows]);
    }

    /// <summary>Breakdown.kql: day views inside whole UTC days, the quarter-hour (or minute) views at the edges; ranked, cut at maxRows, the rest summed.</summary>
    private string Breakdown(Dictionary<string, object> p)
    {
        string advertiser = (string)p["advertiserId"], ad = (string)p["adId"], by = (string)p["breakdownBy"];
        var from = (DateTimeOffset)p["fromTime"];
        var to = (DateTimeOffset)p["toTime"];
        long maxRows = (long)p["maxRows"];
        var day = TimeSpan.FromDays(1);
        var dayFrom = Bin(from, day) == from ? from : Bin(from, day) + day;
        var dayTo = Bin(to, day);
        bool hasDays = dayFrom < dayTo;
        bool InDays(DateTimeOffset t) => hasDays && t >= dayFrom && t < dayTo;
        bool InEdges(DateTimeOffset t) => t >= from && t < to && !InDays(t);
        IEnumerable<(string Value, long Clicks, long InvalidClicks)> values;
        if (by is "ad" or "campaign")
        {
            values = Rollups(day).Where(r => InDays(r.BucketStart)).Concat(Rollups(TimeSpan.FromMinutes(1)).Where(r => InEdges(r.BucketStart)))
                .Where(r => r.AdvertiserId == advertiser && (ad.Length == 0 || r.AdId == ad))
                .Select(r => (by == "ad" ? r.AdId : r.CampaignId, r.Clicks, r.InvalidClicks));
        }
        else
        {
            values = Dimensions(day).Where(r => InDays(r.BucketStart)).Concat(Dimensions(TimeSpan.FromMinutes(15)).Where(r => InEdges(r.BucketStart)))
                .Where(r => r.AdvertiserId == advertiser && r.Dimension == by && (ad.Length == 0 || r.AdId == ad))
                .Select(r => (r.Value, r.Clicks, r.InvalidClicks));
        }
        var ranked = values.GroupBy(v => v.Value, StringComparer.Ordinal)
            .Select(g => (Value: g.Key, Clicks: g.Sum(v => v.Clicks), InvalidClicks: g.Sum(v => v.InvalidClicks)))
            .Where(v => v.Clicks != 0 || v.InvalidClicks != 0)
            .OrderByDescending(v => v.Clicks).ThenByDescending(v => v.InvalidClicks).ThenBy(v => v.Value, StringComparer.Ordinal)
            .Select((v, i) => (v.Value, v.Clicks, v.InvalidClicks, Rank: i + 1L))
            .ToList();
        var rows = new List<object?[]>();
        rows.AddRange(ranked.Where(v => v.Rank <= maxRows).Select(v => (object?[])["row", v.Value, v.Clicks, v.InvalidClicks, v.Rank]));
        var rest = ranked.Where(v => v.Rank > maxRows).ToList();
        if (rest.Count > 0)
        {
            rows.Add(["rest", "other", rest.Sum(v => v.Clicks), rest.Sum(v => v.InvalidClicks), rest.Min(v => v.Rank)]);
        }
        if (ad.Length > 0 && Rollups(day).Any(r => r.AdvertiserId == advertiser && r.AdId == ad))
        {
            rows.Insert(0, ["known", "", 0L, 0L, 0L]);
        }
        return V2Responses.WithPrimaryResult([("Kind", "string"), ("Value", "string"), ("Clicks", "long"), ("InvalidClicks", "long"), ("Rank", "long")], [.. rows]);
    }

    /// <summary>AdvertiserAds.kql: the minute rollup of the advertiser in the range, by ad and campaign, most clicked first.</summary>
    private string AdvertiserAds(Dictionary<string, object> p)
    {
        string advertiser = (string)p["advertiserId"];
        var from = (DateTimeOffset)p["fromTime"];
        var to = (DateTimeOffset)p["toTime"];
        var rows = Rollups(TimeSpan.FromMinutes(1))
            .Where(r => r.AdvertiserId == advertiser && r.BucketStart >= from && r.BucketStart < to)
            .GroupBy(r => (r.AdId, r.CampaignId))
            .Select(g => (object?[])[g.Key.AdId, g.Key.CampaignId, g.Sum(r => r.Clicks), g.Sum(r => r.InvalidClicks)])
            .OrderByDescending(r => (long)r[2]!).ThenBy(r => (string)r[0]!, StringComparer.Ordinal)
            .ToArray();
        return V2Responses.WithPrimaryResult([("AdId", "string"), ("CampaignId", "string"), ("Clicks", "long"), ("InvalidClicks", "long")], rows);
    }

    /// <summary>The dedup view's minute buckets in [fromTime, toTime) summed by (advertiser, campaign, ad, minute), with their shard (hash_sha256 of "adv|campaign|ad", first 3 hex digits).</summary>
    private List<(Rollup Bucket, string Shard)> StoredMinutes(Dictionary<string, object> p)
    {
        var from = (DateTimeOffset)p["fromTime"];
        var to = (DateTimeOffset)p["toTime"];
        return [.. Rollups(TimeSpan.FromMinutes(1)).Where(r => r.BucketStart >= from && r.BucketStart < to)
            .Select(r => (r, System.Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{r.AdvertiserId}|{r.CampaignId}|{r.AdId}")))[..3]))];
    }

    /// <summary>StoredShardTotals.kql: buckets that do not sum to zero, counted and summed per shard, with the minute-weighted sum.</summary>
    private string StoredShardTotals(Dictionary<string, object> p)
    {
        var from = (DateTimeOffset)p["fromTime"];
        var rows = StoredMinutes(p).Where(b => b.Bucket.Clicks != 0 || b.Bucket.InvalidClicks != 0).GroupBy(b => b.Shard, StringComparer.Ordinal)
            .Select(g => (object?[])[g.Key, (long)g.Count(), g.Sum(b => b.Bucket.Clicks), g.Sum(b => b.Bucket.InvalidClicks),
                g.Sum(b => (b.Bucket.Clicks + b.Bucket.InvalidClicks) * (long)(b.Bucket.BucketStart - from).TotalMinutes)])
            .ToArray();
        return V2Responses.WithPrimaryResult([("Shard", "string"), ("Buckets", "long"), ("Clicks", "long"), ("InvalidClicks", "long"), ("MinuteWeighted", "long")], rows);
    }

    /// <summary>StoredBucketsInShards.kql: every bucket of the given shards, with its reasons as a bag (the reasons present in its rows).</summary>
    private string StoredBucketsInShards(Dictionary<string, object> p)
    {
        var shards = ((JsonElement)p["shardIds"]).EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
        var rows = StoredMinutes(p).Where(b => shards.Contains(b.Shard))
            .Select(b => (object?[])[b.Bucket.AdvertiserId, b.Bucket.CampaignId, b.Bucket.AdId, Iso(b.Bucket.BucketStart), b.Bucket.Clicks, b.Bucket.InvalidClicks,
                new System.Text.Json.Nodes.JsonObject(KustoBucketQueries.ReasonColumns.Select((c, i) => (c, i)).Where(x => b.Bucket.Reasons[x.i] != 0)
                    .Select(x => KeyValuePair.Create(x.c.Reason.Code(), (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create(b.Bucket.Reasons[x.i]))))])
            .ToArray();
        return V2Responses.WithPrimaryResult([("AdvertiserId", "string"), ("CampaignId", "string"), ("AdId", "string"), ("BucketStart", "datetime"),
            ("Clicks", "long"), ("InvalidClicks", "long"), ("InvalidByReason", "dynamic")], rows);
    }

    /// <summary>
    /// ReconciledWindows.kql: the windows overlapping [fromTime, toTime) merged by the running sum of +1 at each start
    /// and -1 at each end in time order (starts first at one instant), each merged window from where the sum becomes 1
    /// to where it returns to 0; then the window with the latest end (top 1 by WindowTo desc); ordered by start, end.
    /// </summary>
    private string ReconciledWindows(Dictionary<string, object> p)
    {
        var from = (DateTimeOffset)p["fromTime"];
        var to = (DateTimeOffset)p["toTime"];
        List<(DateTimeOffset From, DateTimeOffset To)> all;
        lock (_gate)
        {
            all = [.. _windows.Where(r => r["WindowFrom"] is DateTimeOffset && r["WindowTo"] is DateTimeOffset)
                .Select(r => ((DateTimeOffset)r["WindowFrom"]!, (DateTimeOffset)r["WindowTo"]!))];
        }
        var steps = all.Where(w => w.From < to && w.To > from)
            .SelectMany(w => new[] { (At: w.From, Step: 1L), (At: w.To, Step: -1L) })
            .OrderBy(e => e.At).ThenByDescending(e => e.Step)
            .ToList();
        var rows = new List<(DateTimeOffset From, DateTimeOffset To)>();
        long depth = 0;
        DateTimeOffset start = default;
        foreach (var (at, step) in steps)
        {
            depth += step;
            if (step == 1 && depth == 1)
            {
                start = at;
            }
            else if (depth == 0)
            {
                rows.Add((start, at));
            }
        }
        if (all.Count > 0)
        {
            rows.Add(all.MaxBy(w => w.To));
        }
        return V2Responses.WithPrimaryResult([("WindowFrom", "datetime"), ("WindowTo", "datetime")],
            [.. rows.OrderBy(r => r.From).ThenBy(r => r.To).Select(r => (object?[])[Iso(r.From), Iso(r.To)])]);
    }

    [GeneratedRegex("""^\.create-or-alter table (?<table>\w+) ingestion json mapping "(?<name>\w+)" '(?<json>\[.*\])'$""", RegexOptions.Multiline)]
    private static partial Regex MappingCommand();

    [GeneratedRegex(@"declare query_parameters\(([^)]*)\);")]
    private static partial Regex DeclareLine();

    [GeneratedRegex(@"(?<name>\w+)\s*:\s*(?<type>\w+)")]
    private static partial Regex DeclaredParameter();
}
