using System.Diagnostics.Metrics;
using System.Text.Json;
using Azure.Messaging.EventHubs;
using Azure.Storage.Blobs;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Aggregation;
using ClickFunctions.Azure.DeadLetters;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tables;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Telemetry;
using ClickFunctions.Clicks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>
/// Queued ingestions that ADX fails after the aggregator handed them over (decision 064): the aggregator (Table claims
/// on Azurite, queued ingestion through the loopback Data Management endpoint) moves on at once; the fake ingestor
/// fails the blob as the service would and posts its failure report to the failed-ingestions queue (Azurite); the
/// drain sets each final failure aside in the dead-letter container beside the aggregator's failed batches, with its
/// reason, counted in aggregate.dead_letters.
/// </summary>
public sealed class IngestionFailureDrainTests(Azurite azurite) : IAsyncLifetime
{
    private readonly string _prefix = "g" + Guid.NewGuid().ToString("N")[..12];
    private readonly IMeterFactory _meters = TestClicks.Meters();
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

    private BlobContainerClient DeadLetterContainer => azurite.Blobs().GetBlobContainerClient(_prefix);

    private KustoClient Client(string mapping = "ClickBucketsJson") => _engine.Client(configure: o =>
    {
        o.IngestionMode = KustoIngestionMode.Queued;
        o.IngestUri = _dm.BaseAddress;
        o.BucketMapping = mapping;
        o.MaxAttempts = 1;
    });

    private IngestionFailureDrain Drain(KustoClient client) => new(client,
        new BlobDeadLetterWriter(DeadLetterContainer, NullLogger<BlobDeadLetterWriter>.Instance), new AzureClickMetrics(_meters),
        Options.Create(new KustoOptions { Database = "clicks" }), NullLogger<IngestionFailureDrain>.Instance);

    private ClickAggregator Aggregator(KustoClient client)
    {
        var claims = new TableClaimStore(azurite.Tables(),
            Options.Create(new TableClaimOptions { TableServiceUri = azurite.TableEndpoint, TablePrefix = _prefix }),
            TestClicks.Clock(), NullLogger<TableClaimStore>.Instance);
        return new ClickAggregator(new AggregationStep(claims), new KustoBucketSink(client),
            new BlobDeadLetterWriter(DeadLetterContainer, NullLogger<BlobDeadLetterWriter>.Instance), new AzureClickMetrics(_meters),
            new FixedNow(TestClicks.Noon.AddSeconds(5)), NullLogger<ClickAggregator>.Instance, TestClicks.FastRetries());
    }

    private static EventData[] Batch(long firstSequence, int count, string ad = "ad-1") =>
        Enumerable.Range(0, count).Select(i =>
        {
            var click = TestClicks.Make(ad, $"imp-{firstSequence + i}", TestClicks.Noon.AddSeconds(i));
            return EventHubsModelFactory.EventData(new BinaryData(ClickWireFormat.Encode(click)), sequenceNumber: firstSequence + i,
                offsetString: (firstSequence + i).ToString(System.Globalization.CultureInfo.InvariantCulture), enqueuedTime: click.Timestamp);
        }).ToArray();

    private async Task<List<string>> FailedBlobs() =>
        !await DeadLetterContainer.ExistsAsync(TestContext.Current.CancellationToken) ? [] : await DeadLetterContainer.GetBlobsAsync(global::Azure.Storage.Blobs.Models.BlobTraits.None, global::Azure.Storage.Blobs.Models.BlobStates.None, BlobDeadLetterWriter.FailedBatchPrefix, TestContext.Current.CancellationToken)
            .Select(b => b.Name).ToListAsync(TestContext.Current.CancellationToken);

    [Fact]
    public async Task A_queued_batch_ADX_fails_for_a_bad_mapping_lands_in_the_dead_letter_container_with_its_reason_and_the_metric_counts_it()
    {
        var (listener, seen) = MeterRecorder.Listen(_meters);
        using var _ = listener;
        var client = Client(mapping: "ClickBucketsJsonRenamed"); // a mapping the table no longer has
        var aggregator = Aggregator(client);

        // Two consecutive batches of partition 0: each is handed over in one attempt and the partition moves on.
        await aggregator.AggregateAsync(Batch(100, 13), "0", TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        await aggregator.AggregateAsync(Batch(113, 7), "0", TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.False(seen.ContainsKey("aggregate.failures{permanent}"));
        Assert.False(seen.ContainsKey("aggregate.failures{transient}"));
        Assert.Empty(await FailedBlobs()); // nothing failed yet as far as the aggregator can tell

        // The service ingests later: both blobs fail on the mapping, each reported to the failed-ingestions queue.
        Assert.Equal(2, await _dm.DrainAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, _dm.Failures.Count);
        Assert.Empty(_dm.Rows);

        var report = await Drain(client).DrainAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new IngestionFailureDrainReport(2, 0, 0, 0), report);
        var names = await FailedBlobs();
        Assert.Equal(2, names.Count);
        Assert.Single(names, n => n.StartsWith("failed/0/100-112.ingestion-", StringComparison.Ordinal));
        Assert.Single(names, n => n.StartsWith("failed/0/113-119.ingestion-", StringComparison.Ordinal));
        var blob = DeadLetterContainer.GetBlobClient(names.Single(n => n.Contains("/100-112.", StringComparison.Ordinal)));
        var line = JsonDocument.Parse((await blob.DownloadContentAsync(TestContext.Current.CancellationToken)).Value.Content.ToString().Trim()).RootElement;
        Assert.Equal("0", line.GetProperty("partition").GetString());
        Assert.Equal(100, line.GetProperty("firstSequenceNumber").GetInt64());
        Assert.Equal(112, line.GetProperty("lastSequenceNumber").GetInt64());
        Assert.Equal("Permanent", line.GetProperty("failureStatus").GetString());
        Assert.Equal("BadRequest_MappingReferenceWasNotFound", line.GetProperty("errorCode").GetString());
        string reason = line.GetProperty("reason").GetString()!;
        Assert.StartsWith("ingestion_permanent", reason, StringComparison.Ordinal);
        Assert.Contains("BadRequest_MappingReferenceWasNotFound", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", line.GetProperty("ingestionSourcePath").GetString(), StringComparison.Ordinal); // no SAS kept
        var properties = await blob.GetPropertiesAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.StartsWith("ingestion_permanent", properties.Value.Metadata["reason"], StringComparison.Ordinal);
        Assert.Equal(2, seen["aggregate.dead_letters{ingestion_permanent}"]);

        // Handled reports are deleted: the next run finds nothing.
        Assert.Equal(new IngestionFailureDrainReport(0, 0, 0, 0), await Drain(client).DrainAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, seen["aggregate.dead_letters{ingestion_permanent}"]);
    }

    [Fact]
    public async Task A_transient_report_is_counted_and_left_to_the_service_whose_retry_ingests_the_rows()
    {
        var (listener, seen) = MeterRecorder.Listen(_meters);
        using var _ = listener;
        var client = Client();
        _dm.TransientFailures = 1;
        await Aggregator(client).AggregateAsync(Batch(200, 5), "3", TestContext.Current.CancellationToken);

        Assert.Equal(2, await _dm.DrainAsync(TestContext.Current.CancellationToken)); // the first try, then the service's retry
        // One bucket row (plus its dimension rows, decision 073), each ingested once: the retry collapsed by row id.
        var buckets = _dm.Rows.Values.Where(r => !r.TryGetProperty("dimension", out var d) || d.ValueKind == JsonValueKind.Null).ToList();
        Assert.Single(buckets);
        Assert.Equal(5, buckets[0].GetProperty("clicks").GetInt64());
        Assert.All(_dm.Rows.Values.Except(buckets).GroupBy(r => r.GetProperty("dimension").GetString()),
            dimension => Assert.Equal(5, dimension.Sum(r => r.GetProperty("dimensionClicks").GetInt64())));

        var report = await Drain(client).DrainAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new IngestionFailureDrainReport(0, 1, 0, 0), report);
        Assert.Empty(await FailedBlobs());
        Assert.Equal(1, seen["aggregate.ingestion.reported_failures{transient}"]);
        Assert.False(seen.ContainsKey("aggregate.dead_letters{ingestion_permanent}"));
    }

    [Fact]
    public async Task Reports_of_other_tables_are_left_in_the_queue_and_unreadable_messages_are_set_aside()
    {
        var client = Client();
        await _dm.FailedQueue.SendMessageAsync("""{"Database":"clicks","Table":"SomeoneElsesTable","FailureStatus":"Permanent","ErrorCode":"BadRequest_InvalidBlob"}""", TestContext.Current.CancellationToken);
        await _dm.FailedQueue.SendMessageAsync("not a failure report", TestContext.Current.CancellationToken);
        // Exhausted (as its number, 3): several retries failed; final, like Permanent.
        await _dm.FailedQueue.SendMessageAsync("""{"Database":"clicks","Table":"ClickBuckets","FailureStatus":3,"ErrorCode":"General_RetryAttemptsExceeded","IngestionSourcePath":"https://x.blob.core.windows.net/t/clicks__ClickBuckets__00000000000000000000000000000001__5_10-20.multijson?sig=secret"}""", TestContext.Current.CancellationToken);

        var report = await Drain(client).DrainAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new IngestionFailureDrainReport(1, 0, 1, 1), report);
        var names = await FailedBlobs();
        Assert.Contains("failed/5/10-20.ingestion-00000000000000000000000000000001.jsonl", names);
        Assert.Single(names, n => n.StartsWith("failed/ingestion/unreadable-", StringComparison.Ordinal));
        // The other table's report is still in the queue (invisible until its visibility timeout passes, not deleted).
        var properties = await _dm.FailedQueue.GetPropertiesAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, properties.Value.ApproximateMessagesCount);
    }

    [Theory]
    [InlineData("7:100-600")]
    [InlineData("reconcile:2026-11-29T12:00Z/2026-11-29T12:10Z")]
    public void A_queued_blob_name_gives_back_its_batch(string batchId)
    {
        var client = Client();
        var source = Guid.NewGuid();
        string name = client.QueuedBlobName(source, batchId);
        var uri = "https://acct.blob.core.windows.net/temp/" + Uri.EscapeDataString(name) + "?sv=1&sig=abc";
        Assert.True(KustoClient.TryParseQueuedBlob(uri, out var parsedSource, out var parsedBatch));
        Assert.Equal(source, parsedSource);
        Assert.Equal(batchId, parsedBatch);
        Assert.False(KustoClient.TryParseQueuedBlob("https://acct.blob.core.windows.net/temp/other.csv", out _, out _));
    }
}
