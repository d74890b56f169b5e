using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Messaging.EventHubs;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.DeadLetters;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tables;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Clicks;
using ClickFunctions.Azure.Aggregation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;
using ClickFunctions.Azure.Tests.Telemetry;

namespace ClickFunctions.Azure.Tests.Faults;

/// <summary>
/// AggregateClicks' work (core aggregation step, Table claims on Azurite, ADX ingestion on the loopback server) under
/// faults. "Counted" is what the ClickBucketsDedup view would hold: every ingested row, one per RowId.
/// </summary>
public sealed class AggregationFaultTests(Azurite azurite) : IAsyncLifetime
{
    private const string IngestPath = "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson";
    private readonly string _prefix = "f" + Guid.NewGuid().ToString("N")[..12];
    private readonly Dictionary<string, JsonElement> _rowsById = new(StringComparer.Ordinal);
    private LoopbackKusto _adx = null!;

    public async ValueTask InitializeAsync() => _adx = await LoopbackKusto.StartAsync();

    public async ValueTask DisposeAsync() => await _adx.DisposeAsync();

    private readonly IMeterFactory _meters = TestClicks.Meters();

    private ClickAggregator Aggregator(HttpPipelinePolicy? tableFault = null, HttpPipelinePosition faultPosition = HttpPipelinePosition.PerRetry)
    {
        var tableOptions = new TableClientOptions();
        tableOptions.Retry.MaxRetries = 0;
        if (tableFault is not null)
        {
            tableOptions.AddPolicy(tableFault, faultPosition);
        }
        var claims = new TableClaimStore(azurite.Tables(tableOptions),
            Options.Create(new TableClaimOptions { TableServiceUri = azurite.TableEndpoint, TablePrefix = _prefix, InitialBackoff = TimeSpan.FromMilliseconds(10) }),
            TestClicks.Clock(), NullLogger<TableClaimStore>.Instance);
        var deadLetters = new BlobDeadLetterWriter(azurite.Blobs().GetBlobContainerClient(_prefix), NullLogger<BlobDeadLetterWriter>.Instance);
        return new ClickAggregator(new AggregationStep(claims), new KustoBucketSink(_adx.Client(configure: o => o.MaxAttempts = 1)) /* the aggregator's own failure path, without the client's retries */, deadLetters, new AzureClickMetrics(_meters),
            new FixedNow(TestClicks.Noon.AddSeconds(5)), NullLogger<ClickAggregator>.Instance, TestClicks.FastRetries());
    }

    /// <summary>10 distinct valid clicks, a double click of the first, a bot, and a malformed event, as the trigger delivers them.</summary>
    private static EventData[] Batch()
    {
        var clicks = Enumerable.Range(0, 10).Select(i => TestClicks.Make("ad-1", $"imp-{i}", TestClicks.Noon.AddSeconds(i))).ToList();
        clicks.Add(TestClicks.Make("ad-1", "imp-0", TestClicks.Noon.AddSeconds(30)));
        clicks.Add(TestClicks.Make("ad-1", "bot", TestClicks.Noon.AddSeconds(31), reason: ClickReason.BotUserAgent));
        var events = clicks.Select((c, i) => EventHubsModelFactory.EventData(new BinaryData(ClickWireFormat.Encode(c)), sequenceNumber: 100 + i, offsetString: ((100 + i) * 10).ToString(System.Globalization.CultureInfo.InvariantCulture), enqueuedTime: c.Timestamp)).ToList();
        events.Add(EventHubsModelFactory.EventData(new BinaryData(new byte[] { 9, 9, 9 }), sequenceNumber: 112, offsetString: "1120", enqueuedTime: TestClicks.Noon.AddSeconds(32)));
        return [.. events];
    }

    private void ExpectIngest(int status = 200) => _adx.Expect("POST", IngestPath, status,
        status == 200 ? """{"Tables":[]}""" : """{"error":{"code":"ServiceUnavailable","message":"Service is unavailable (simulated)."}}""",
        r =>
        {
            if (status == 200)
            {
                foreach (string line in r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var row = JsonDocument.Parse(line).RootElement.Clone();
                    _rowsById[row.GetProperty("rowId").GetString()!] = row; // what ClickBucketsDedup keeps: one row per id
                }
            }
            return null;
        });

    private (long Clicks, long Invalid, long Duplicates) Counted() => (
        _rowsById.Values.Sum(r => r.GetProperty("clicks").GetInt64()),
        _rowsById.Values.Sum(r => r.GetProperty("invalidClicks").GetInt64()),
        _rowsById.Values.Sum(r => r.GetProperty("invalidByReason").TryGetProperty("duplicate", out var d) ? d.GetInt64() : 0));

    [Fact]
    public async Task A_Table_Storage_timeout_after_a_committed_claim_then_the_retry_loses_nothing_and_counts_nothing_twice()
    {
        var fault = new LoseResponseAfterCommit(LoseResponseAfterCommit.IsTableBatch);
        ExpectIngest();
        await Aggregator(fault).AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken);
        Assert.Equal(1, fault.Fired);
        Assert.Equal((10L, 2L, 1L), Counted());

        // The trigger redelivers the whole batch (a crash before the checkpoint): same claims, same row ids.
        ExpectIngest();
        await Aggregator().AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken);
        Assert.Empty(_adx.Mismatches);
        Assert.Equal((10L, 2L, 1L), Counted());
    }

    [Fact]
    public async Task A_transient_ADX_failure_is_retried_by_the_aggregator_and_nothing_is_lost_or_counted_twice()
    {
        ExpectIngest(status: 503);
        ExpectIngest();
        await Aggregator().AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken);

        // The retry found every claim made by the failed attempt and recognised it as its own, so the clicks still count.
        Assert.Empty(_adx.Mismatches);
        Assert.Equal((10L, 2L, 1L), Counted());
        var requests = _adx.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].Body, requests[1].Body); // the retry wrote exactly what the failed attempt tried to
        Assert.False(await FailedBatchBlob().ExistsAsync(TestContext.Current.CancellationToken));
    }

    private global::Azure.Storage.Blobs.BlobClient FailedBatchBlob() =>
        azurite.Blobs().GetBlobContainerClient(_prefix).GetBlobClient(BlobDeadLetterWriter.FailedBatchPrefix + "0/100-112.jsonl");

    private async Task<List<JsonElement>> FailedBatchLines()
    {
        string content = (await FailedBatchBlob().DownloadContentAsync(TestContext.Current.CancellationToken)).Value.Content.ToString();
        return content.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    [Fact]
    public async Task A_permanent_ADX_error_sets_the_batch_aside_with_its_reason_within_the_bounded_tries_and_the_metric_counts_it()
    {
        var (listener, seen) = MeterRecorder.Listen(_meters);
        using var _ = listener;
        // 403: the app's identity lost its Ingestor role. Retrying forever would stall the partition (issue 11, finding 4).
        for (int i = 0; i < 5; i++)
        {
            _adx.Expect("POST", IngestPath, 403, """{"error":{"code":"Forbidden","message":"Principal is not authorized to ingest (simulated)."}}""");
        }
        var aggregate = Aggregator().AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken);
        await aggregate.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken); // returns: the partition moves on

        Assert.Equal(new AggregationRetryOptions().PermanentAttempts, _adx.Requests.Count);
        var lines = await FailedBatchLines();
        Assert.Equal(Enumerable.Range(100, 13).Select(i => (long)i), lines.Select(l => l.GetProperty("sequenceNumber").GetInt64()));
        Assert.All(lines, l => Assert.Contains("403", l.GetProperty("reason").GetString(), StringComparison.Ordinal));
        Assert.All(lines, l => Assert.StartsWith("permanent", l.GetProperty("reason").GetString(), StringComparison.Ordinal));
        var properties = await FailedBatchBlob().GetPropertiesAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.StartsWith("permanent", properties.Value.Metadata["reason"], StringComparison.Ordinal);
        Assert.Equal(1, seen["aggregate.dead_letters{permanent}"]);
        Assert.Equal(13, seen["aggregate.dead_letters.events{permanent}"]);
        Assert.Equal(2, seen["aggregate.failures{permanent}"]);
    }

    [Fact]
    public async Task A_permanent_Table_Storage_error_sets_the_batch_aside_and_the_partition_moves_on()
    {
        var (listener, seen) = MeterRecorder.Listen(_meters);
        using var _ = listener;
        // A request signed with a wrong key: Azurite answers 403 AuthorizationFailure, as Table Storage does when the
        // identity lacks Storage Table Data Contributor.
        var aggregator = Aggregator(new BreakSignature(), HttpPipelinePosition.BeforeTransport);
        await aggregator.AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Empty(_adx.Requests); // nothing was ingested: the claims never succeeded
        var lines = await FailedBatchLines();
        Assert.Equal(13, lines.Count);
        Assert.All(lines, l => Assert.Contains("403", l.GetProperty("reason").GetString(), StringComparison.Ordinal));
        Assert.Equal(1, seen["aggregate.dead_letters{permanent}"]);
    }

    [Fact]
    public async Task A_batch_that_stays_throttled_is_set_aside_after_its_bounded_transient_retries_and_lag_is_recorded_on_every_try()
    {
        var (listener, seen) = MeterRecorder.Listen(_meters);
        using var _ = listener;
        int attempts = TestClicks.FastRetries().TransientAttempts;
        for (int i = 0; i < attempts; i++)
        {
            _adx.Expect("POST", IngestPath, 429, """{"error":{"code":"Throttled","message":"Too many requests (simulated)."}}""");
        }
        await Aggregator().AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal(attempts, _adx.Requests.Count);
        Assert.All(await FailedBatchLines(), l => Assert.StartsWith("transient_exhausted", l.GetProperty("reason").GetString(), StringComparison.Ordinal));
        Assert.Equal(1, seen["aggregate.dead_letters{transient}"]);
        // A stalled batch still reports lag: every failed try and the final one, each from the batch's first event
        // (enqueued at noon; the clock says noon + 5 s), in milliseconds.
        Assert.Equal(attempts + 1, seen.Count("aggregate.lag"));
        Assert.Equal(5_000, seen.Max("aggregate.lag"));
    }

    /// <summary>Replaces the request's signature, so the storage emulator refuses it with 403.</summary>
    private sealed class BreakSignature : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Headers.TryGetValue("Authorization", out string? value) && value.StartsWith("SharedKey", StringComparison.Ordinal))
            {
                message.Request.Headers.SetValue("Authorization", value[..(value.LastIndexOf(':') + 1)] + Convert.ToBase64String(new byte[32]));
            }
        }
    }

    [Fact]
    public async Task A_malformed_event_is_set_aside_with_its_reason_and_does_not_fail_its_batch()
    {
        ExpectIngest();
        await Aggregator().AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken);
        var blob = azurite.Blobs().GetBlobContainerClient(_prefix).GetBlobClient("0/100-112.jsonl");
        string content = (await blob.DownloadContentAsync(TestContext.Current.CancellationToken)).Value.Content.ToString();
        var letter = JsonDocument.Parse(content.Trim()).RootElement;
        Assert.Equal(112, letter.GetProperty("sequenceNumber").GetInt64());
        Assert.False(string.IsNullOrEmpty(letter.GetProperty("reason").GetString()));
        Assert.Equal((10L, 2L, 1L), Counted());
    }
}
