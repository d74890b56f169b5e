using System.Text.Json;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Clicks;
using ClickFunctions.Queries;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>The query port and the bucket sink on ADX: the embedded KQL, typed parameters, the ingestion request.</summary>
public sealed class KustoBucketQueriesTests : IAsyncLifetime
{
    private static readonly (string, string)[] AdClicksColumns =
        [("Kind", "string"), ("BucketStart", "datetime"), ("Clicks", "long"), ("InvalidClicks", "long"), .. KustoBucketQueries.ReasonColumns.Select(c => (c.Column, "long"))];

    /// <summary>An AdClicks.kql row: kind, start, valid clicks, then the reason columns (bot_user_agent first, duplicate sixth).</summary>
    private static object?[] Row(string kind, string start, long clicks, long bots = 0, long duplicates = 0) =>
        [kind, start, clicks, bots + duplicates, bots, 0L, 0L, 0L, 0L, duplicates, 0L, 0L];
    private static readonly DateTimeOffset From = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
    private LoopbackKusto _server = null!;

    public async ValueTask InitializeAsync() => _server = await LoopbackKusto.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static AdClicksQuery Query(string adId, Granularity granularity = Granularity.Hour) =>
        new("adv-1", adId, granularity, new TimeRange(From, From.AddHours(3)));

    private static JsonElement Body(RecordedRequest request) => JsonDocument.Parse(request.Body).RootElement.Clone();

    [Fact]
    public async Task Ad_clicks_send_the_embedded_KQL_with_values_only_as_typed_query_parameters()
    {
        const string hostile = "ad-1\"; .drop table ClickBuckets //";
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(AdClicksColumns), r =>
        {
            var body = Body(r);
            string csl = body.GetProperty("csl").GetString()!;
            var parameters = body.GetProperty("properties").GetProperty("Parameters");
            if (csl != KustoQueries.AdClicks || csl.Contains(hostile, StringComparison.Ordinal))
            {
                return "csl is not the embedded AdClicks.kql";
            }
            // Three UTC hours at hour granularity: hour rows of that one UTC day, no minute or day rows.
            return parameters.GetProperty("adId").GetString() == hostile
                && parameters.GetProperty("advertiserId").GetString() == "adv-1"
                && parameters.GetProperty("fromTime").GetString() == "datetime(2026-11-29T10:00:00.0000000Z)"
                && parameters.GetProperty("toTime").GetString() == "datetime(2026-11-29T13:00:00.0000000Z)"
                && parameters.GetProperty("hourDays").GetString() == "dynamic([" + new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() + "])"
                && parameters.GetProperty("minuteHours").GetString() == "dynamic([])"
                && parameters.GetProperty("days").GetString() == "dynamic([])"
                && body.GetProperty("properties").GetProperty("Options").GetProperty("servertimeout").GetString() == "00:00:30"
                ? null : "wrong parameters: " + parameters;
        });
        await new KustoBucketQueries(_server.Client()).GetAdClicksAsync(new AdClicksQuery("adv-1", hostile, Granularity.Hour, new TimeRange(From, From.AddHours(3))), TestContext.Current.CancellationToken);
        Assert.Empty(_server.Mismatches);
    }

    [Fact]
    public async Task An_ad_the_advertiser_does_not_own_is_null_so_the_API_answers_404()
    {
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(AdClicksColumns));
        Assert.Null(await new KustoBucketQueries(_server.Client()).GetAdClicksAsync(Query("someone-elses"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_owned_ad_without_clicks_in_the_range_has_no_buckets_and_zero_totals()
    {
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(AdClicksColumns, Row("known", "2026-11-01T00:00:00.0000000Z", 0)));
        var result = await new KustoBucketQueries(_server.Client()).GetAdClicksAsync(Query("ad-1"), TestContext.Current.CancellationToken);
        Assert.NotNull(result);
        Assert.Empty(result.Buckets);
        Assert.Equal(new ClickTotals(0, 0), result.Total);
    }

    [Fact]
    public async Task Buckets_come_back_in_order_with_their_totals()
    {
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(AdClicksColumns,
            Row("hour", "2026-11-29T10:00:00.0000000Z", 5, bots: 1),
            Row("hour", "2026-11-29T12:00:00.0000000Z", 7, duplicates: 2),
            // Outside the plan's ranges (a row of an hour the query did not ask for): not counted.
            Row("hour", "2026-11-29T14:00:00.0000000Z", 100),
            Row("known", "2026-11-29T00:00:00.0000000Z", 0)));
        var result = await new KustoBucketQueries(_server.Client()).GetAdClicksAsync(Query("ad-1"), TestContext.Current.CancellationToken);
        Assert.NotNull(result);
        Assert.Equal([new ClickBucket(From, 5, 1), new ClickBucket(From.AddHours(2), 7, 2)], result.Buckets);
        Assert.Equal(new ClickTotals(12, 3), result.Total);
        Assert.Equal(1, result.Total.InvalidByReason["bot_user_agent"]);
        Assert.Equal(2, result.Total.InvalidByReason["duplicate"]);
        Assert.Equal(2, result.Buckets[1].InvalidByReason["duplicate"]);
        Assert.Equal("hour", result.Granularity);
    }

    [Fact]
    public async Task The_advertiser_listing_is_ordered_by_clicks_then_ad_id()
    {
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(
            [("AdId", "string"), ("CampaignId", "string"), ("Clicks", "long"), ("InvalidClicks", "long")],
            ["b", "c1", 3, 0], ["a", "c1", 3, 2], ["z", "c2", 9, 0]),
            r => Body(r).GetProperty("csl").GetString() == KustoQueries.AdvertiserAds ? null : "not AdvertiserAds.kql");
        var ads = await new KustoBucketQueries(_server.Client()).ListAdsAsync(new AdvertiserAdsQuery("adv-1", new TimeRange(From, From.AddDays(1))), TestContext.Current.CancellationToken);
        Assert.Empty(_server.Mismatches);
        Assert.Equal(["z", "a", "b"], ads.Ads.Select(a => a.AdId));
    }

    [Fact]
    public async Task Buckets_are_streamed_as_MultiJson_rows_with_the_mapping_names_and_deterministic_row_ids()
    {
        var key = new BucketKey("adv-1", "cmp-1", "ad-1", From);
        var counts = new BucketCounts();
        counts.Add(ClickReason.Valid, 4);
        counts.Add(ClickReason.Duplicate, 2);
        counts.Add(ClickReason.BotUserAgent);
        var buckets = new Dictionary<BucketKey, BucketCounts> { [key] = counts };
        string? body = null;
        _server.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 200, """{"Tables":[]}""", r => { body = r.Body; return null; });
        await new KustoBucketSink(_server.Client()).WriteAsync("0:10-20", buckets, TestContext.Current.CancellationToken);
        Assert.Empty(_server.Mismatches);

        var row = JsonDocument.Parse(Assert.Single(body!.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement;
        Assert.Equal(BucketRows.RowId("stream", "0:10-20", key), row.GetProperty("rowId").GetString());
        Assert.Equal("ad-1", row.GetProperty("adId").GetString());
        Assert.Equal(From, row.GetProperty("bucketStart").GetDateTimeOffset());
        Assert.Equal(4, row.GetProperty("clicks").GetInt64());
        Assert.Equal(3, row.GetProperty("invalidClicks").GetInt64());
        Assert.Equal(2, row.GetProperty("invalidByReason").GetProperty("duplicate").GetInt64());
        Assert.Equal("stream", row.GetProperty("source").GetString());
        Assert.Equal("0:10-20", row.GetProperty("batchId").GetString());
    }

    [Fact]
    public async Task Rows_beyond_the_request_size_limit_go_in_several_ingestion_requests_and_none_is_lost()
    {
        var buckets = Enumerable.Range(0, 50).ToDictionary(
            i => new BucketKey("adv-1", "cmp-1", $"ad-{i}", From),
            _ => { var c = new BucketCounts(); c.Add(ClickReason.Valid); return c; });
        var client = new KustoClient(new HttpClient(), _server.Credential,
            Microsoft.Extensions.Options.Options.Create(new KustoOptions { ClusterUri = _server.BaseAddress, Database = "clicks", MaxIngestBytes = 4096, IngestionMode = KustoIngestionMode.Streaming }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<KustoClient>.Instance);
        var bodies = new System.Collections.Concurrent.ConcurrentQueue<string>();
        for (int i = 0; i < 10; i++)
        {
            _server.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 200, """{"Tables":[]}""",
                r => { bodies.Enqueue(r.Body); return r.Body.Length <= 4096 ? null : "request over the limit"; });
        }
        await new KustoBucketSink(client).WriteAsync("0:1-50", buckets, TestContext.Current.CancellationToken);
        Assert.Empty(_server.Mismatches);
        Assert.True(bodies.Count > 1);
        var ads = bodies.SelectMany(b => b.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("adId").GetString()).ToList();
        Assert.Equal(50, ads.Distinct().Count());
        Assert.Equal(50, ads.Count);
    }

    [Fact]
    public async Task Each_dimension_value_of_a_bucket_is_a_row_of_its_own_in_the_same_request_with_bucket_counts_of_zero()
    {
        var key = new BucketKey("adv-1", "cmp-1", "ad-1", From);
        var counts = new BucketCounts();
        counts.Add(ClickReason.Valid, 3);
        counts.Add(ClickReason.BotUserAgent);
        counts.AddDimension(ClickDimension.Country, "DE", 2, 1);
        counts.AddDimension(ClickDimension.Country, "US", 1, 0);
        counts.AddDimension(ClickDimension.SubId, "none", 3, 1);
        string? body = null;
        _server.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 200, """{"Tables":[]}""", r => { body = r.Body; return null; });
        await new KustoBucketSink(_server.Client()).WriteAsync("0:10-20", new Dictionary<BucketKey, BucketCounts> { [key] = counts }, TestContext.Current.CancellationToken);
        Assert.Empty(_server.Mismatches);

        var rows = body!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(4, rows.Count);
        var bucket = Assert.Single(rows, r => !r.TryGetProperty("dimension", out _));
        Assert.Equal(3, bucket.GetProperty("clicks").GetInt64());
        var dimensions = rows.Where(r => r.TryGetProperty("dimension", out _)).ToList();
        Assert.All(dimensions, r => Assert.Equal(0, r.GetProperty("clicks").GetInt64() + r.GetProperty("invalidClicks").GetInt64()));
        Assert.Equal(["country:DE:2:1", "country:US:1:0", "sub_id:none:3:1"], dimensions.Select(r =>
            $"{r.GetProperty("dimension").GetString()}:{r.GetProperty("dimensionValue").GetString()}:{r.GetProperty("dimensionClicks").GetInt64()}:{r.GetProperty("dimensionInvalidClicks").GetInt64()}"));
        Assert.Equal(4, rows.Select(r => r.GetProperty("rowId").GetString()).Distinct().Count());
        Assert.Equal(BucketRows.DimensionRowId("stream", "0:10-20", key, ClickDimension.Country, "DE"), dimensions[0].GetProperty("rowId").GetString());
    }

    [Fact]
    public void Row_ids_are_the_same_for_the_same_batch_and_differ_across_batches_and_buckets()
    {
        var key = new BucketKey("adv-1", "cmp-1", "ad-1", From);
        Assert.Equal(BucketRows.RowId("stream", "0:1-5", key), BucketRows.RowId("stream", "0:1-5", key));
        Assert.NotEqual(BucketRows.RowId("stream", "0:1-5", key), BucketRows.RowId("stream", "0:6-9", key));
        Assert.NotEqual(BucketRows.RowId("stream", "0:1-5", key), BucketRows.RowId("stream", "0:1-5", key with { Minute = From.AddMinutes(1) }));
    }

    [Fact]
    public void Every_KQL_file_is_embedded_and_takes_its_values_as_query_parameters()
    {
        var files = Directory.GetFiles(Path.Combine(Infrastructure.TestPaths.RepoRoot, "functions", "ClickFunctions.Azure", "Kusto"), "*.kql");
        Assert.Equal(7, files.Length);
        foreach (string file in files)
        {
            string kql = KustoQueries.Load(Path.GetFileNameWithoutExtension(file));
            Assert.Equal(File.ReadAllText(file), kql);
            Assert.Contains("declare query_parameters(", kql, StringComparison.Ordinal);
        }
    }
}
