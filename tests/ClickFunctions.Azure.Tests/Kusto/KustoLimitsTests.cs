using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Kusto;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>
/// ADX's documented limits, enforced by the loopback server, against the client: throttling (429 with Retry-After) is
/// waited out as told, other transient answers are retried with backoff, permanent ones surface at once as
/// <see cref="KustoPermanentException"/>; truncated results fail loudly; ingestion requests stay within 4 MB.
/// </summary>
public sealed class KustoLimitsTests : IAsyncLifetime
{
    private static readonly (string, string)[] Columns = [("x", "long")];
    private LoopbackKusto _server = null!;

    public async ValueTask InitializeAsync() => _server = await LoopbackKusto.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static Task<KustoTable> Query(KustoClient client) =>
        client.QueryAsync("print x = 1", new Dictionary<string, KustoParameter>(), TestContext.Current.CancellationToken);

    private static async Task Until(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_retried_after_exactly_that_delay()
    {
        // "Request throttling" (ADX): a throttled request gets 429; the official clients retry after the Retry-After.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var log = new RecordingLogger();
        _server.Throttle(1, TimeSpan.FromSeconds(7));
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(Columns, [1L]));
        var query = Query(_server.Client(time: time, logger: log));

        await Until(() => log.Delays.Count == 1);
        Assert.Equal(TimeSpan.FromSeconds(7), log.Delays.Single()); // the server's figure, not the client's own backoff
        Assert.Single(_server.Requests); // on a fake clock nothing moves until the test moves it
        Assert.False(query.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(7));
        var result = await query.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Single(result.Rows);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Empty(_server.Mismatches);
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff_until_they_pass()
    {
        _server.Expect("POST", "/v2/rest/query", 503, """{"error":{"code":"ServiceUnavailable","message":"busy","@permanent":false}}""");
        _server.Expect("POST", "/v2/rest/query", 500, """{"error":{"code":"InternalServiceError","message":"oops","@permanent":false}}""");
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(Columns, [1L]));
        Assert.Single((await Query(_server.Client())).Rows);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Fact]
    public async Task Transient_errors_past_the_attempt_limit_fail_as_transient_not_permanent()
    {
        for (int i = 0; i < 3; i++)
        {
            _server.Expect("POST", "/v2/rest/query", 503, """{"error":{"code":"ServiceUnavailable","message":"busy","@permanent":false}}""");
        }
        var error = await Assert.ThrowsAsync<KustoException>(() => Query(_server.Client(configure: o => o.MaxAttempts = 3)));
        Assert.IsNotType<KustoPermanentException>(error);
        Assert.Equal(503, error.Status);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Theory]
    [InlineData(403, """{"error":{"code":"Forbidden","message":"Principal is not authorized to ingest","@permanent":true}}""")]
    [InlineData(400, """{"error":{"code":"BadRequest_MappingReferenceWasNotFound","message":"Mapping reference 'ClickBucketsJson' of type 'mappingReference' in database 'clicks' could not be found.","@permanent":true}}""")]
    [InlineData(404, """{"error":{"code":"BadRequest_EntityNotFound","message":"Table 'ClickBuckets' was not found"}}""")]
    public async Task A_permanent_refusal_is_not_retried_and_is_its_own_exception_type(int status, string body)
    {
        _server.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", status, body);
        var rows = BucketRows.From(new Dictionary<BucketKey, BucketCounts> { [new BucketKey("adv-1", "cmp-1", "ad-1", DateTimeOffset.UnixEpoch)] = Valid(1) }, BucketRows.StreamSource, "0:1-1");
        var error = await Assert.ThrowsAsync<KustoPermanentException>(() => _server.Client().IngestBucketsAsync(rows, TestContext.Current.CancellationToken));
        Assert.Equal(status, error.Status);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task A_result_past_500000_records_is_truncated_by_the_service_and_the_client_fails_instead_of_using_it()
    {
        var rows = Enumerable.Range(0, LoopbackKusto.MaxResultRecords + 1).Select(i => new object?[] { (long)i }).ToArray();
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(Columns, rows));
        var error = await Assert.ThrowsAsync<KustoException>(() => Query(_server.Client()));
        Assert.Equal("LimitsExceeded", error.Code);
        Assert.Contains("record count limit 500000", error.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests); // a truncation is not retried: the same query would be truncated again
    }

    [Fact]
    public async Task A_result_past_64_MB_is_truncated_too()
    {
        string wide = new('x', 1000);
        var rows = Enumerable.Range(0, 70_000).Select(_ => new object?[] { wide }).ToArray();
        _server.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult([("s", "string")], rows));
        var error = await Assert.ThrowsAsync<KustoException>(() => Query(_server.Client()));
        Assert.Contains("data size limit 67108864", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingestion_of_more_than_4_MB_goes_in_requests_the_service_accepts()
    {
        var buckets = Enumerable.Range(0, 30_000).ToDictionary(i => new BucketKey("adv-1", "cmp-1", $"ad-{i:D6}", DateTimeOffset.UnixEpoch), _ => Valid(3));
        var rows = BucketRows.From(buckets, BucketRows.StreamSource, "0:1-30000");
        for (int i = 0; i < 10; i++)
        {
            _server.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 200, """{"Tables":[]}""");
        }
        await _server.Client().IngestBucketsAsync(rows, TestContext.Current.CancellationToken);
        Assert.True(_server.Requests.Sum(r => r.Body.Length) > LoopbackKusto.MaxStreamingIngestBytes, "more than one request's worth of rows");
        Assert.All(_server.Requests, r => Assert.True(System.Text.Encoding.UTF8.GetByteCount(r.Body) <= LoopbackKusto.MaxStreamingIngestBytes));
        Assert.Empty(_server.Mismatches);
    }

    [Fact]
    public async Task The_loopback_refuses_a_streaming_ingestion_request_over_4_MB_as_permanent()
    {
        using var http = new HttpClient();
        var body = new StringContent(new string('x', LoopbackKusto.MaxStreamingIngestBytes + 1));
        var response = await http.PostAsync(new Uri(_server.BaseAddress, "v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson"), body, TestContext.Current.CancellationToken);
        Assert.Equal(413, (int)response.StatusCode);
        Assert.True(KustoClient.IsPermanent(413, null));
    }

    [Fact]
    public void At_10M_ads_with_every_shard_differing_the_per_ad_reads_stay_under_the_truncation_limit()
    {
        // 10k clicks/s over a 10-minute window at 10M ads: ~6M (ad, minute) rows, about 1,465 per shard of 4,096.
        var expected = Enumerable.Range(0, ClickFunctions.Reconciliation.BucketShards.Count).ToDictionary(i => i.ToString("x3", System.Globalization.CultureInfo.InvariantCulture), _ => 6_000_000L / 4096);
        var groups = KustoBucketCorrections.Groups(expected, new KustoOptions().MaxRowsPerQuery);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), groups.SelectMany(g => g).Order(StringComparer.Ordinal));
        Assert.All(groups, g => Assert.True(g.Sum(s => expected[s]) <= 200_000));
        Assert.True(groups.Max(g => g.Sum(s => expected[s])) < LoopbackKusto.MaxResultRecords);
        Assert.InRange(groups.Count, 30, 31); // 6M rows in reads of ≤ 200k
    }

    private static BucketCounts Valid(long clicks)
    {
        var counts = new BucketCounts();
        counts.Add(Clicks.ClickReason.Valid, clicks);
        return counts;
    }

    private sealed class RecordingLogger : ILogger<KustoClient>
    {
        public ConcurrentQueue<TimeSpan> Delays { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 3 && state is IReadOnlyList<KeyValuePair<string, object?>> values && values.FirstOrDefault(v => v.Key == "Delay").Value is TimeSpan delay)
            {
                Delays.Enqueue(delay);
            }
        }
    }
}
