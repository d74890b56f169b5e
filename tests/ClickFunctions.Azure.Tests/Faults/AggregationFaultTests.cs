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
using Microsoft.Extensions.Time.Testing;

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

    private ClickAggregator Aggregator(HttpPipelinePolicy? tableFault = null)
    {
        var tableOptions = new TableClientOptions();
        tableOptions.Retry.MaxRetries = 0;
        if (tableFault is not null)
        {
            tableOptions.AddPolicy(tableFault, HttpPipelinePosition.PerRetry);
        }
        var claims = new TableClaimStore(azurite.Tables(tableOptions),
            Options.Create(new TableClaimOptions { TableServiceUri = azurite.TableEndpoint, TablePrefix = _prefix, InitialBackoff = TimeSpan.FromMilliseconds(10) }),
            TimeProvider.System, NullLogger<TableClaimStore>.Instance);
        var deadLetters = new BlobDeadLetterWriter(azurite.Blobs().GetBlobContainerClient(_prefix), NullLogger<BlobDeadLetterWriter>.Instance);
        return new ClickAggregator(new AggregationStep(claims), new KustoBucketSink(_adx.Client()), deadLetters, TestClicks.Metrics(),
            new FakeTimeProvider(TestClicks.Noon.AddSeconds(5)), NullLogger<ClickAggregator>.Instance);
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
    public async Task An_ADX_ingestion_failure_throws_so_the_retry_policy_reruns_the_batch_and_nothing_is_lost()
    {
        ExpectIngest(status: 503);
        var aggregator = Aggregator();
        await Assert.ThrowsAsync<KustoException>(() => aggregator.AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken));
        Assert.Equal((0L, 0L, 0L), Counted());

        // The retry finds every claim made by the failed attempt and recognises it as its own, so the clicks still count.
        ExpectIngest();
        await aggregator.AggregateAsync(Batch(), "0", TestContext.Current.CancellationToken);
        Assert.Empty(_adx.Mismatches);
        Assert.Equal((10L, 2L, 1L), Counted());
        var requests = _adx.Requests.ToList();
        Assert.Equal(requests[0].Body, requests[1].Body); // the retry wrote exactly what the failed attempt tried to
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
