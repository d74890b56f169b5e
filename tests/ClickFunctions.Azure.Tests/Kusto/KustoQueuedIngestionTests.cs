using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>
/// Queued ingestion and the Managed mode's choice (decision 063) against the loopback engine, the loopback Data
/// Management endpoint and a real queue and container in Azurite, drained by the fake ingestor with the service's
/// rules (<see cref="LoopbackIngestService"/>).
/// </summary>
public sealed class KustoQueuedIngestionTests(Azurite azurite) : IAsyncLifetime
{
    private const string IngestPath = "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson";
    private LoopbackKusto _engine = null!;
    private LoopbackIngestService _dm = null!;

    public async ValueTask InitializeAsync()
    {
        _engine = await LoopbackKusto.StartAsync();
        _dm = await LoopbackIngestService.StartAsync(azurite);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _dm.DisposeAsync();
    }

    private KustoClient Client(KustoIngestionMode mode, Action<KustoOptions>? more = null, TimeProvider? time = null) =>
        _engine.Client(time: time, configure: o =>
        {
            o.IngestionMode = mode;
            o.IngestUri = _dm.BaseAddress;
            o.MaxAttempts = 2;
            more?.Invoke(o);
        });

    private static List<BucketRow> Rows(int ads, string batch, long clicks = 2)
    {
        var buckets = Enumerable.Range(0, ads).ToDictionary(i => new BucketKey("adv-1", "cmp-1", $"ad-{i:D6}", DateTimeOffset.UnixEpoch.AddMinutes(i % 3)), _ =>
        {
            var counts = new BucketCounts();
            counts.Add(Clicks.ClickReason.Valid, clicks);
            return counts;
        });
        return BucketRows.From(buckets, BucketRows.StreamSource, batch);
    }

    private static async Task Until(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    [Fact]
    public async Task Queued_ingestion_uploads_the_rows_and_posts_the_documented_message_that_the_service_ingests()
    {
        var rows = Rows(500, "7:100-600");
        await Client(KustoIngestionMode.Queued).IngestBucketsAsync(rows, TestContext.Current.CancellationToken);

        await Until(async () => await _dm.DrainAsync(TestContext.Current.CancellationToken) > 0 || !_dm.Messages.IsEmpty);
        Assert.Empty(_dm.Failures);
        Assert.Empty(_engine.Requests); // nothing streamed
        var message = Assert.Single(_dm.Messages);
        Assert.Equal("clicks", (string?)message["DatabaseName"]);
        Assert.Equal("ClickBuckets", (string?)message["TableName"]);
        Assert.Equal(LoopbackIngestService.IdentityToken, (string?)message["AdditionalProperties"]!["authorizationContext"]);
        Assert.Equal(rows.Select(r => r.RowId).Order(StringComparer.Ordinal), _dm.Rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(rows.Sum(r => r.Clicks), _dm.Rows.Values.Sum(r => r.GetProperty("clicks").GetInt64()));
        Assert.Equal(2, _dm.ManagementRequests); // resources and identity token, once
    }

    [Fact]
    public async Task Resources_are_asked_once_per_lifetime_not_per_batch()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var client = Client(KustoIngestionMode.Queued, time: time);
        for (int i = 0; i < 3; i++)
        {
            await client.IngestBucketsAsync(Rows(10, $"1:{i * 10}-{i * 10 + 9}"), TestContext.Current.CancellationToken);
        }
        Assert.Equal(2, _dm.ManagementRequests);
        time.Advance(new KustoOptions().IngestionResourcesLifetime);
        await client.IngestBucketsAsync(Rows(10, "1:30-39"), TestContext.Current.CancellationToken);
        Assert.Equal(4, _dm.ManagementRequests);
        Assert.Equal(4, await _dm.DrainAsync(TestContext.Current.CancellationToken));
        Assert.Empty(_dm.Failures);
    }

    [Fact]
    public async Task Managed_streams_at_low_volume_and_queues_once_the_table_would_pass_the_4_GB_per_hour_guideline()
    {
        // One partition writing ~60 KB in a minute is 60 KB x 60 x 32 partitions = ~115 MB/h for the table: streaming.
        // Lower the guideline to 100 MB/h and the same partition's next batches are queued.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var client = Client(KustoIngestionMode.Managed, o => o.StreamingMaxBytesPerHour = 100_000_000, time);
        _engine.Expect("POST", IngestPath, 200, """{"Tables":[]}""");
        await client.IngestBucketsAsync(Rows(200, "3:0-199"), TestContext.Current.CancellationToken);
        Assert.Single(_engine.Requests);
        int first = _engine.Requests.Single().Body.Length;
        Assert.InRange(first * 60.0 * 32, 1, 100_000_000); // under the lowered guideline: streamed

        await client.IngestBucketsAsync(Rows(200, "3:200-399"), TestContext.Current.CancellationToken);
        Assert.Single(_engine.Requests); // the partition's minute now estimates the table above the guideline: queued
        Assert.Equal(1, await _dm.DrainAsync(TestContext.Current.CancellationToken));

        // Another partition's first batch is judged on its own minute.
        _engine.Expect("POST", IngestPath, 200, """{"Tables":[]}""");
        await client.IngestBucketsAsync(Rows(200, "4:0-199"), TestContext.Current.CancellationToken);
        Assert.Equal(2, _engine.Requests.Count);

        // A minute later partition 3's window is empty again: back to streaming.
        time.Advance(StreamingBudget.Window);
        _engine.Expect("POST", IngestPath, 200, """{"Tables":[]}""");
        await client.IngestBucketsAsync(Rows(200, "3:400-599"), TestContext.Current.CancellationToken);
        Assert.Equal(3, _engine.Requests.Count);
        Assert.Empty(_engine.Mismatches);
        Assert.Empty(_dm.Failures);
    }

    [Fact]
    public async Task Managed_queues_a_payload_over_the_streaming_request_limit_as_one_blob()
    {
        var rows = Rows(30_000, "5:0-29999"); // ~6 MB of MultiJson: over the 4 MB of one streaming request
        await Client(KustoIngestionMode.Managed).IngestBucketsAsync(rows, TestContext.Current.CancellationToken);
        Assert.Empty(_engine.Requests);
        Assert.Equal(1, await _dm.DrainAsync(TestContext.Current.CancellationToken));
        Assert.Empty(_dm.Failures);
        Assert.Equal(30_000, _dm.Rows.Count);
    }

    [Fact]
    public async Task Managed_falls_back_to_queued_when_streaming_is_still_throttled_after_its_retries()
    {
        _engine.Throttle(2, TimeSpan.Zero); // both attempts (MaxAttempts 2) answered 429
        var rows = Rows(50, "6:0-49");
        await Client(KustoIngestionMode.Managed).IngestBucketsAsync(rows, TestContext.Current.CancellationToken);
        Assert.Equal(2, _engine.Requests.Count);
        Assert.Equal(1, await _dm.DrainAsync(TestContext.Current.CancellationToken));
        Assert.Empty(_dm.Failures);
        Assert.Equal(50, _dm.Rows.Count);
    }

    [Fact]
    public async Task A_permanent_streaming_refusal_is_not_hidden_by_the_fallback()
    {
        _engine.Expect("POST", IngestPath, 403, """{"error":{"code":"Forbidden","message":"principal is not authorized","@permanent":true}}""");
        await Assert.ThrowsAsync<KustoPermanentException>(() => Client(KustoIngestionMode.Managed).IngestBucketsAsync(Rows(5, "8:0-4"), TestContext.Current.CancellationToken));
        Assert.Equal(0, await _dm.DrainAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_blob_ingested_twice_and_a_batch_queued_twice_still_count_once_in_the_dedup_view()
    {
        // At least once on both sides: the service ingests every blob twice here, and the aggregator's retry of the
        // batch (a crash before its checkpoint) queues the same rows again. Row ids are the same, so the view counts once.
        _dm.DuplicateEvery = 1;
        var client = Client(KustoIngestionMode.Queued);
        var rows = Rows(100, "9:0-99", clicks: 3);
        await client.IngestBucketsAsync(rows, TestContext.Current.CancellationToken);
        await client.IngestBucketsAsync(Rows(100, "9:0-99", clicks: 3), TestContext.Current.CancellationToken);
        Assert.Equal(2, await _dm.DrainAsync(TestContext.Current.CancellationToken));
        Assert.Equal(400, _dm.RawRowsIngested);
        Assert.Equal(100, _dm.Rows.Count);
        Assert.Equal(300, _dm.Rows.Values.Sum(r => r.GetProperty("clicks").GetInt64()));
    }

    [Fact]
    public async Task The_fake_ingestor_refuses_messages_the_service_would_refuse()
    {
        var client = Client(KustoIngestionMode.Queued);
        var resources = await client.GetIngestionResourcesAsync(TestContext.Current.CancellationToken);
        var queue = new global::Azure.Storage.Queues.QueueClient(resources.Queues[0], new global::Azure.Storage.Queues.QueueClientOptions { MessageEncoding = global::Azure.Storage.Queues.QueueMessageEncoding.Base64 });
        var blob = new Uri(resources.TempContainers[0].GetLeftPart(UriPartial.Path) + "/missing.multijson" + resources.TempContainers[0].Query);
        await queue.SendMessageAsync(client.IngestionMessage(Guid.NewGuid(), blob, 10, "not-the-token", DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
        await queue.SendMessageAsync(client.IngestionMessage(Guid.NewGuid(), blob, 10, LoopbackIngestService.IdentityToken, DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
        Assert.Equal(2, await _dm.DrainAsync(TestContext.Current.CancellationToken));
        Assert.Collection(_dm.Failures,
            f => Assert.Contains("authorizationContext", f, StringComparison.Ordinal),
            f => Assert.Contains("does not exist", f, StringComparison.Ordinal));
        Assert.Empty(_dm.Rows);
    }
}
