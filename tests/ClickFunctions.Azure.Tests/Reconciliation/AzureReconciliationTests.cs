using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Avro;
using Avro.File;
using Avro.Generic;
using Azure.Storage.Blobs;
using ClickFunctions.Azure.Capture;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Capture;
using ClickFunctions.Clicks;
using ClickFunctions.Azure.Reconciliation;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Azure.Tests.Reconciliation;

/// <summary>ReconcileClicks' work: the core reconciler over Capture blobs (Azurite) and ADX (loopback), report to Blob.</summary>
public sealed class AzureReconciliationTests(Azurite azurite) : IAsyncLifetime
{
    private static readonly (string, string)[] StoredColumns =
        [("AdvertiserId", "string"), ("CampaignId", "string"), ("AdId", "string"), ("BucketStart", "datetime"), ("Clicks", "long"), ("InvalidClicks", "long"), ("InvalidByReason", "dynamic")];
    private readonly string _container = "rc" + Guid.NewGuid().ToString("N")[..10];
    private LoopbackKusto _adx = null!;

    public async ValueTask InitializeAsync() => _adx = await LoopbackKusto.StartAsync();

    public async ValueTask DisposeAsync() => await _adx.DisposeAsync();

    private AzureReconciliation Reconciliation()
    {
        var source = new CaptureBlobSource(azurite.Blobs(),
            Options.Create(new CaptureBlobOptions { BlobServiceUri = azurite.BlobEndpoint, Container = _container, Namespace = "ns", EventHub = "clicks", FileWindow = TimeSpan.FromMinutes(5) }),
            NullLogger<CaptureBlobSource>.Instance);
        var options = new ReconcileOptions { CaptureWindow = TimeSpan.FromMinutes(5), AllowedLateness = TimeSpan.FromMinutes(10), Span = TimeSpan.FromMinutes(10), DedupLookback = TimeSpan.FromMinutes(30) };
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 25, 0, TimeSpan.Zero));
        var reconciler = new Reconciler(source, new KustoBucketCorrections(_adx.Client()), options, TimeSpan.FromHours(24), time, new ReconcileMetrics(TestClicks.Meters()));
        return new AzureReconciliation(reconciler, azurite.Blobs(), Options.Create(new ReconcileReportOptions { ReportContainer = _container + "-reports" }), NullLogger<AzureReconciliation>.Instance);
    }

    private async Task UploadCapture(string partition, DateTimeOffset window, params (long Sequence, ClickEvent Click)[] events)
    {
        var schema = (RecordSchema)Schema.Parse(CaptureSchema.Json);
        using var stream = new MemoryStream();
        using (var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), stream, Codec.CreateCodec(Codec.Type.Deflate)))
        {
            foreach (var (sequence, click) in events)
            {
                var record = new GenericRecord(schema);
                record.Add("SequenceNumber", sequence);
                record.Add("Offset", sequence.ToString(CultureInfo.InvariantCulture));
                record.Add("EnqueuedTimeUtc", click.Timestamp.UtcDateTime.ToString("M/d/yyyy h:mm:ss tt", CultureInfo.InvariantCulture));
                record.Add("SystemProperties", new Dictionary<string, object>());
                record.Add("Properties", new Dictionary<string, object>());
                record.Add("Body", ClickWireFormat.Encode(click));
                writer.Append(record);
            }
        }
        var container = azurite.Blobs().GetBlobContainerClient(_container);
        await container.CreateIfNotExistsAsync(cancellationToken: TestContext.Current.CancellationToken);
        string name = $"ns/clicks/{partition}/{window.UtcDateTime:yyyy/MM/dd/HH/mm/ss}";
        await container.GetBlobClient(name).UploadAsync(new BinaryData(stream.ToArray()), overwrite: true, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_closed_window_is_recounted_from_Capture_and_ADX_gets_the_signed_difference_as_correction_rows()
    {
        var noon = TestClicks.Noon;
        var clicks = Enumerable.Range(0, 5).Select(i => TestClicks.Make("ad-1", $"imp-{i}", noon.AddSeconds(i))).ToList();
        clicks.Add(TestClicks.Make("ad-1", "imp-0", noon.AddSeconds(10))); // a double click: counted as a duplicate
        await UploadCapture("0", noon, clicks.Select((c, i) => ((long)i, c)).ToArray());

        // ADX holds 3 of the 5 valid clicks for that minute (a crash window lost two) and no duplicate.
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(StoredColumns,
            ["adv-1", "cmp-1", "ad-1", "2026-11-29T12:00:00.0000000Z", 3, 0, new JsonObject()]),
            r => JsonDocument.Parse(r.Body).RootElement.GetProperty("csl").GetString() == KustoQueries.StoredBuckets ? null : "not StoredBuckets.kql");
        string? ingested = null;
        _adx.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 200, """{"Tables":[]}""", r => { ingested = r.Body; return null; });

        var report = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);

        Assert.Empty(_adx.Mismatches);
        Assert.Equal(ReconcileStatus.Corrected, report.Status);
        var row = JsonDocument.Parse(ingested!.Trim()).RootElement;
        Assert.Equal("correction", row.GetProperty("source").GetString());
        Assert.Equal(2, row.GetProperty("clicks").GetInt64());
        Assert.Equal(1, row.GetProperty("invalidByReason").GetProperty("duplicate").GetInt64());
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero), row.GetProperty("bucketStart").GetDateTimeOffset());

        var reports = azurite.Blobs().GetBlobContainerClient(_container + "-reports");
        var blob = Assert.Single(await reports.GetBlobsAsync(cancellationToken: TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken));
        string json = (await reports.GetBlobClient(blob.Name).DownloadContentAsync(TestContext.Current.CancellationToken)).Value.Content.ToString();
        Assert.Contains("Corrected", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_that_already_matches_gets_nothing_written()
    {
        var noon = TestClicks.Noon;
        await UploadCapture("0", noon, (0, TestClicks.Make("ad-1", "a", noon)), (1, TestClicks.Make("ad-1", "b", noon.AddSeconds(1))));
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(StoredColumns,
            ["adv-1", "cmp-1", "ad-1", "2026-11-29T12:00:00.0000000Z", 2, 0, new JsonObject()]));

        var report = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);

        Assert.Equal(ReconcileStatus.Matched, report.Status);
        Assert.Single(_adx.Requests); // the query; no ingestion
    }

    [Fact]
    public async Task A_sequence_gap_in_the_Capture_files_fails_the_run_and_corrects_nothing()
    {
        var noon = TestClicks.Noon;
        await UploadCapture("0", noon, (0, TestClicks.Make("ad-1", "a", noon)));
        await UploadCapture("0", noon.AddMinutes(1), (5, TestClicks.Make("ad-1", "b", noon.AddMinutes(1))));
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(StoredColumns));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken));

        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.Single(_adx.Requests);
    }
}
