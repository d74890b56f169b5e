using System.Text.Json;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Clicks;
using ClickFunctions.Queries;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>The loopback engine refuses what ADX would refuse, so the contract test cannot pass on requests ADX rejects.</summary>
public sealed class LoopbackAdxEngineTests : IAsyncLifetime
{
    private static readonly DateTimeOffset From = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
    private LoopbackKusto _server = null!;
    private readonly LoopbackAdxEngine _engine = new();

    public async ValueTask InitializeAsync()
    {
        _server = await LoopbackKusto.StartAsync();
        _engine.Attach(_server);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_record_whose_value_does_not_convert_to_the_mapped_column_type_is_an_error()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.BaseAddress, "v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson"))
        {
            Content = new StringContent("""{"rowId":"r1","adId":"ad-1","bucketStart":"not a time","clicks":1}""" + "\n", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Authorization", "Bearer " + FakeCredential.Token);
        request.Headers.Add("x-ms-client-request-id", "ClickFunctions.Ingest;" + Guid.NewGuid());
        request.Headers.Add("x-ms-app", "ClickFunctions");
        using var _ = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Contains(_engine.Problems, p => p.Contains("BucketStart", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_query_without_one_of_its_declared_parameters_is_refused_and_the_client_sees_the_failure()
    {
        var client = _server.Client();
        await Assert.ThrowsAnyAsync<KustoException>(() => client.QueryAsync(KustoQueries.AdvertiserAds, new Dictionary<string, KustoParameter>(StringComparer.Ordinal)
        {
            ["advertiserId"] = KustoParameter.Text("adv-1"),
            ["fromTime"] = KustoParameter.Time(From),
        }, TestContext.Current.CancellationToken));
        Assert.Contains(_engine.Problems, p => p.Contains("'toTime' was not provided", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rows_written_twice_count_once_and_dimension_rows_add_nothing_to_the_bucket_counts()
    {
        var counts = new BucketCounts();
        counts.Add(ClickReason.Valid, 4);
        counts.Add(ClickReason.Duplicate, 2);
        counts.AddDimension(ClickDimension.Country, "DE", 4, 2);
        var buckets = new Dictionary<BucketKey, BucketCounts> { [new BucketKey("adv-1", "cmp-1", "ad-1", From)] = counts };
        var sink = new KustoBucketSink(_server.Client());
        await sink.WriteAsync("0:1-2", buckets, TestContext.Current.CancellationToken);
        await sink.WriteAsync("0:1-2", buckets, TestContext.Current.CancellationToken);
        Assert.Equal(4, _engine.RowCount);

        var queries = new KustoBucketQueries(_server.Client());
        var clicks = await queries.GetAdClicksAsync(new AdClicksQuery("adv-1", "ad-1", Granularity.Hour, new TimeRange(From, From.AddHours(1))), TestContext.Current.CancellationToken);
        Assert.Equal(new ClickTotals(4, 2), clicks!.Total);
        Assert.Equal(2, clicks.Total.InvalidByReason["duplicate"]);
        var breakdown = await queries.GetBreakdownAsync(new BreakdownQuery("adv-1", "ad-1", "country", ClickDimension.Country, new TimeRange(From, From.AddHours(1)), TimeZoneInfo.Utc, 100), TestContext.Current.CancellationToken);
        Assert.Equal([new BreakdownRow("DE", 4, 2)], breakdown!.Rows);
        Assert.Empty(_engine.Problems);
    }
}
