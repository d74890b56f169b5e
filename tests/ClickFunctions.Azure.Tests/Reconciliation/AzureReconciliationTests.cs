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
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Azure.Tests.Reconciliation;

/// <summary>ReconcileClicks' work: the core reconciler over Capture blobs (Azurite) and ADX (loopback), report to Blob.</summary>
public sealed class AzureReconciliationTests(Azurite azurite) : IAsyncLifetime
{
    private static readonly (string, string)[] ShardColumns =
        [("Shard", "string"), ("Buckets", "long"), ("Clicks", "long"), ("InvalidClicks", "long"), ("MinuteWeighted", "long")];
    private static readonly (string, string)[] StoredColumns =
        [("AdvertiserId", "string"), ("CampaignId", "string"), ("AdId", "string"), ("BucketStart", "datetime"), ("Clicks", "long"), ("InvalidClicks", "long"), ("InvalidByReason", "dynamic")];
    private readonly string _container = "rc" + Guid.NewGuid().ToString("N")[..10];
    private LoopbackKusto _adx = null!;

    public async ValueTask InitializeAsync() => _adx = await LoopbackKusto.StartAsync();

    public async ValueTask DisposeAsync() => await _adx.DisposeAsync();

    private CheckpointPositions Positions(string fullyQualifiedNamespace = "evhns-test.servicebus.windows.net", string consumerGroup = "$Default") => new(azurite.Blobs(),
        Options.Create(new CheckpointOptions { BlobServiceUri = azurite.BlobEndpoint, Container = _container + "-checkpoints", FullyQualifiedNamespace = fullyQualifiedNamespace, EventHubName = "Clicks", ConsumerGroup = consumerGroup }));

    /// <summary>
    /// A checkpoint as the Event Hubs trigger writes it (the SDK's BlobCheckpointStoreInternal): an empty blob named
    /// {namespace}/{hub}/{consumer group}/checkpoint/{partition}, lowercased, with metadata sequencenumber and offset.
    /// </summary>
    private async Task Checkpoint(string partition, long sequence, string blobPrefix = "evhns-test.servicebus.windows.net/clicks/$default")
    {
        var container = azurite.Blobs().GetBlobContainerClient(_container + "-checkpoints");
        await container.CreateIfNotExistsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var metadata = new Dictionary<string, string>
        {
            ["offset"] = "",
            ["sequencenumber"] = sequence.ToString(CultureInfo.InvariantCulture),
            ["clientidentifier"] = "host-1",
        };
        await container.GetBlobClient($"{blobPrefix}/checkpoint/{partition}").UploadAsync(new MemoryStream(), new global::Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = metadata }, TestContext.Current.CancellationToken);
    }

    /// <summary>The shard as the KQL computes it: the first 3 hex digits of SHA-256 (lowercase hex, as hash_sha256() returns) of "adv|campaign|ad".</summary>
    private static string Shard(string advertiser, string campaign, string ad) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{advertiser}|{campaign}|{ad}")))[..3];

    private static Func<RecordedRequest, string?> Csl(string name, string? shards = null) => r =>
    {
        var body = JsonDocument.Parse(r.Body).RootElement;
        if (body.GetProperty("csl").GetString() != KustoQueries.Load(name))
        {
            return "not " + name + ".kql";
        }
        return shards is null || body.GetProperty("properties").GetProperty("Parameters").GetProperty("shardIds").GetString() == shards
            ? null : "wrong shards " + body.GetProperty("properties").GetProperty("Parameters");
    };

    /// <summary>
    /// The run as the app wires it, at 12:25 unless <paramref name="time"/> says otherwise (the due window is then
    /// [12:00, 12:10)), with its corrections through <paramref name="kusto"/> (the streaming client by default).
    /// </summary>
    private AzureReconciliation Reconciliation(KustoClient? kusto = null, FakeTimeProvider? time = null, TimeSpan? span = null)
    {
        var source = new CaptureBlobSource(azurite.Blobs(),
            Options.Create(new CaptureBlobOptions { BlobServiceUri = azurite.BlobEndpoint, Container = _container, Namespace = "ns", EventHub = "clicks", FileWindow = TimeSpan.FromMinutes(5) }),
            NullLogger<CaptureBlobSource>.Instance);
        var options = new ReconcileOptions { CaptureWindow = TimeSpan.FromMinutes(5), AllowedLateness = TimeSpan.FromMinutes(10), Span = span ?? TimeSpan.FromMinutes(10), DedupLookback = TimeSpan.FromMinutes(30) };
        time ??= new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 25, 0, TimeSpan.Zero));
        var corrections = new KustoBucketCorrections(kusto ?? _adx.Client(), new KustoOptions(), Positions());
        var reconciler = new Reconciler(source, corrections, options, TimeSpan.FromHours(24), time, new ReconcileMetrics(TestClicks.Meters()));
        return new AzureReconciliation(reconciler, azurite.Blobs(), Options.Create(new ReconcileReportOptions { ReportContainer = _container + "-reports" }),
            new KustoReconciledWindows(_adx.Client(), time), corrections, time, NullLogger<AzureReconciliation>.Instance);
    }

    private const string WindowIngestion = "/v1/rest/ingest/clicks/ReconciledWindows?streamFormat=MultiJson&mappingName=ReconciledWindowsJson";

    /// <summary>The confirmed window's row, streamed after the run (decision 095): the due window [12:00, 12:10) and the run's status.</summary>
    private void ExpectWindowRecorded(string status) =>
        _adx.Expect("POST", WindowIngestion, 200, """{"Tables":[]}""", r =>
        {
            var row = JsonDocument.Parse(r.Body.Trim()).RootElement;
            return row.GetProperty("windowFrom").GetDateTimeOffset() == TestClicks.Noon && row.GetProperty("windowTo").GetDateTimeOffset() == TestClicks.Noon.AddMinutes(10)
                && row.GetProperty("status").GetString() == status ? null : "wrong window row " + r.Body;
        });

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
        await Checkpoint("0", 5);

        // ADX holds 3 of the 5 valid clicks for that minute (a crash window lost two) and no duplicate: its shard's
        // totals differ, so that shard's per-ad rows are read.
        string shard = Shard("adv-1", "cmp-1", "ad-1");
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns, [shard, 1, 3, 0, 0]), Csl("StoredShardTotals"));
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(StoredColumns,
            ["adv-1", "cmp-1", "ad-1", "2026-11-29T12:00:00.0000000Z", 3, 0, new JsonObject()]), Csl("StoredBucketsInShards", $"dynamic([\"{shard}\"])"));
        string? ingested = null;
        _adx.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 200, """{"Tables":[]}""", r => { ingested = r.Body; return null; });
        ExpectWindowRecorded("Corrected");

        var report = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);

        Assert.Empty(_adx.Mismatches);
        Assert.Equal(ReconcileStatus.Corrected, report.Status);
        Assert.Equal(4, _adx.Requests.Count); // shard totals, the shard's rows, the corrections, then the window
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

    /// <summary>
    /// The query API of the Functions app over the loopback ADX engine (the bucket rows its sink ingested, the windows
    /// the reconciler recorded): buckets are not final before reconciliation, final inside the reconciled window after
    /// it, with finalThrough the window's end, and a bucket after the window stays not final. A re-run changes nothing.
    /// </summary>
    [Fact]
    public async Task After_a_reconcile_the_query_api_says_the_window_s_buckets_are_final_and_the_others_not()
    {
        var noon = TestClicks.Noon;
        var engine = new LoopbackAdxEngine();
        engine.Attach(_adx);
        using var app = FunctionsApp();
        var ct = TestContext.Current.CancellationToken;
        // The aggregator counted both clicks of 12:00 (inside the due window [12:00, 12:10)) and one of 12:25 (after it).
        await Aggregated(app, "0:0-2", (noon, 2), (noon.AddMinutes(25), 1));
        string path = ClicksPath(noon);

        var before = await ClicksAsync(app.Services, path);
        Assert.Null(before["finalThrough"]);
        Assert.Equal([false, false], before["buckets"]!.AsArray().Select(b => (bool)b!["final"]!));

        await UploadCapture("0", noon, (0, TestClicks.Make("ad-1", "a", noon)), (1, TestClicks.Make("ad-1", "b", noon.AddSeconds(1))));
        await Checkpoint("0", 1);
        for (int run = 0; run < 2; run++)
        {
            // The engine answers the reconciler's shard read (StoredShardTotals.kql) and takes the window's row.
            Assert.Equal(ReconcileStatus.Matched, (await Reconciliation().RunDueWindowAsync(ct)).Status);
            var after = await ClicksAsync(app.Services, path);
            Assert.Equal("2026-11-29T12:10:00Z", (string?)after["finalThrough"]);
            var buckets = after["buckets"]!.AsArray();
            Assert.Equal(["2026-11-29T12:00:00Z", "2026-11-29T12:25:00Z"], buckets.Select(b => (string)b!["start"]!));
            Assert.Equal([true, false], buckets.Select(b => (bool)b!["final"]!));
            // The hour bucket reaches past the window: not final.
            var hour = await ClicksAsync(app.Services, path.Replace("granularity=minute", "granularity=hour", StringComparison.Ordinal));
            Assert.False((bool)hour["buckets"]![0]!["final"]!);
        }
        Assert.Equal(2, engine.WindowRowCount); // each run recorded the window; the readers merge them
        Assert.Empty(_adx.Mismatches);
        Assert.Empty(engine.Problems);
    }

    /// <summary>
    /// Decision 095, queued corrections. ADX lost 2 of the 5 clicks of 12:00; the reconciler's corrections go queued
    /// (Kusto:IngestionMode Queued) to the loopback Data Management service, whose rows are invisible until its
    /// ingestor drains the queue. While they wait the bucket is not final (the old code recorded the window at once). A
    /// run after Reconcile:IngestionSettle that still does not see them writes the same correction again under the same
    /// row id (Reconciler.RowId: window, key, stored and recounted counts), so when both copies land the dedup view
    /// counts it once: 5 clicks, not 7. The next run sees them, matches, and only then the bucket is final.
    /// </summary>
    [Fact]
    public async Task A_window_whose_corrections_went_queued_is_final_only_after_a_later_run_sees_them_and_they_count_once()
    {
        var noon = TestClicks.Noon;
        var ct = TestContext.Current.CancellationToken;
        var (engine, dm, queued, app) = await LostTwoOfFiveAsync(noon, noon);
        await using var ingest = dm;
        using var host = app;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 25, 0, TimeSpan.Zero));
        string path = ClicksPath(noon);

        var first = await Reconciliation(queued, time).RunDueWindowAsync(ct);
        Assert.Equal(ReconcileStatus.Corrected, first.Status);
        var waiting = await ClicksAsync(app.Services, path);
        Assert.Equal(3, (long)waiting["buckets"]![0]!["clicks"]!);
        Assert.False((bool)waiting["buckets"]![0]!["final"]!);
        Assert.Null(waiting["finalThrough"]);
        Assert.Equal(0, engine.WindowRowCount);
        Assert.Contains("went queued", first.Message, StringComparison.Ordinal);

        // 12:35: the settle time has passed but the service has not ingested yet. The window is run again before the
        // due window [12:10, 12:20) (nothing in it: matched, recorded).
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(ReconcileStatus.Matched, (await Reconciliation(queued, time).RunDueWindowAsync(ct)).Status);
        var stillWaiting = await ClicksAsync(app.Services, path);
        Assert.False((bool)stillWaiting["buckets"]![0]!["final"]!);
        Assert.Equal(3, (long)stillWaiting["buckets"]![0]!["clicks"]!);

        // The service ingests both queued blobs: two copies of one correction row.
        Assert.Equal(2, await dm.DrainAsync(ct));
        Assert.Empty(dm.Failures);
        Assert.Equal(2, dm.Messages.Count);
        var landed = Assert.Single(dm.Rows.Values, r => r.GetProperty("source").GetString() == "correction");
        Assert.Equal(2, landed.GetProperty("clicks").GetInt64());
        Assert.Equal(2, dm.RawRowsIngested);
        var counted = await ClicksAsync(app.Services, path);
        Assert.Equal(5, (long)counted["total"]!["clicks"]!);
        Assert.False((bool)counted["buckets"]![0]!["final"]!); // visible, but no run has confirmed it yet

        // 12:45: the run sees the corrections, matches, and records the window.
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(ReconcileStatus.Matched, (await Reconciliation(queued, time).RunDueWindowAsync(ct)).Status);
        var final = await ClicksAsync(app.Services, path);
        var bucket = Assert.Single(final["buckets"]!.AsArray());
        Assert.True((bool)bucket!["final"]!);
        Assert.Equal(5, (long)bucket["clicks"]!);
        Assert.Equal(5, (long)final["total"]!["clicks"]!);
        Assert.Equal("2026-11-29T12:30:00Z", (string?)final["finalThrough"]);
        Assert.Equal(2, dm.Messages.Count); // nothing queued once the window matched
        Assert.Empty(await PendingAsync());
        Assert.Empty(_adx.Mismatches);
        Assert.Empty(engine.Problems);
    }

    /// <summary>
    /// Overlapping runs (Span 10 min every 5 min): the run after a queued correction must not compare ADX with its
    /// recount while that correction is still in the queue, or it would write the same delta under its own window's
    /// row id and the click would count twice. The clicks are at 12:07, in both [12:00, 12:10) and [12:04, 12:14).
    /// </summary>
    [Fact]
    public async Task A_run_overlapping_a_window_with_queued_corrections_is_deferred_and_corrects_nothing_twice()
    {
        var noon = TestClicks.Noon;
        var ct = TestContext.Current.CancellationToken;
        var (engine, dm, queued, app) = await LostTwoOfFiveAsync(noon.AddMinutes(7), noon.AddMinutes(5));
        await using var ingest = dm;
        using var host = app;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 25, 0, TimeSpan.Zero));
        var span = TimeSpan.FromMinutes(10);

        Assert.Equal(ReconcileStatus.Corrected, (await Reconciliation(queued, time, span).RunDueWindowAsync(ct)).Status);

        // 12:29: the due window [12:04, 12:14) overlaps [12:00, 12:10), whose correction is still queued: deferred.
        time.Advance(TimeSpan.FromMinutes(4));
        var deferred = await Reconciliation(queued, time, span).RunDueWindowAsync(ct);
        Assert.Equal(ReconcileStatus.Unsettled, deferred.Status);
        Assert.Contains("deferred", deferred.Message, StringComparison.Ordinal);
        Assert.Equal((noon.AddMinutes(4), noon.AddMinutes(14)), (deferred.From, deferred.To));
        Assert.Equal(1, await dm.DrainAsync(ct)); // only the first run's correction was ever queued
        Assert.Equal(5, (long)(await ClicksAsync(app.Services, ClicksPath(noon)))["total"]!["clicks"]!);

        // 12:35: [12:00, 12:10) is seen and recorded, then the deferred [12:04, 12:14), then the due [12:10, 12:20).
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(ReconcileStatus.Matched, (await Reconciliation(queued, time, span).RunDueWindowAsync(ct)).Status);
        var answer = await ClicksAsync(app.Services, ClicksPath(noon));
        var bucket = Assert.Single(answer["buckets"]!.AsArray());
        Assert.Equal(5, (long)bucket!["clicks"]!);
        Assert.True((bool)bucket["final"]!);
        Assert.Equal(3, engine.WindowRowCount);
        Assert.Single(dm.Messages);
        Assert.Empty(await PendingAsync());
        Assert.Empty(_adx.Mismatches);
        Assert.Empty(engine.Problems);
    }

    /// <summary>
    /// The loopback engine behind the server, a loopback Data Management service draining into it, a client that
    /// queues through that service, and the Functions app: its aggregator counted 3 of the 5 clicks of ad-1 at
    /// <paramref name="minute"/> that Capture holds (in the file of <paramref name="file"/>), all checkpointed.
    /// </summary>
    private async Task<(LoopbackAdxEngine Engine, LoopbackIngestService Dm, KustoClient Queued, IHost App)> LostTwoOfFiveAsync(DateTimeOffset minute, DateTimeOffset file)
    {
        var engine = new LoopbackAdxEngine();
        engine.Attach(_adx);
        var dm = await LoopbackIngestService.StartAsync(azurite);
        dm.Engine = engine;
        var queued = _adx.Client(configure: o =>
        {
            o.IngestionMode = KustoIngestionMode.Queued;
            o.IngestUri = dm.BaseAddress;
        });
        var app = FunctionsApp();
        await Aggregated(app, "0:0-2", (minute, 3));
        await UploadCapture("0", file, [.. Enumerable.Range(0, 5).Select(i => ((long)i, TestClicks.Make("ad-1", $"imp-{i}", minute.AddSeconds(i))))]);
        await Checkpoint("0", 4);
        return (engine, dm, queued, app);
    }

    /// <summary>The Functions app (query API and sink) over the loopback ADX server, streaming its own rows.</summary>
    private IHost FunctionsApp()
    {
        var settings = AppSettings.Valid();
        settings["Kusto:ClusterUri"] = _adx.BaseAddress.ToString();
        settings["Kusto:IngestionMode"] = "Streaming";
        var builder = ClickFunctions.Functions.Program.CreateBuilder(AppSettings.AsArgs(settings));
        builder.Services.AddSingleton<global::Azure.Core.TokenCredential>(_adx.Credential);
        return builder.Build();
    }

    /// <summary>Valid clicks of ad-1 per minute, as the aggregator's sink writes them for one batch.</summary>
    private static Task Aggregated(IHost app, string batchId, params (DateTimeOffset Minute, long Clicks)[] buckets) =>
        app.Services.GetRequiredService<ClickFunctions.Ports.IBucketSink>().WriteAsync(batchId, buckets.ToDictionary(
            b => new ClickFunctions.Aggregation.BucketKey("adv-1", "cmp-1", "ad-1", b.Minute),
            b =>
            {
                var counts = new ClickFunctions.Aggregation.BucketCounts();
                counts.Add(ClickReason.Valid, b.Clicks);
                return counts;
            }), TestContext.Current.CancellationToken).AsTask();

    private static string ClicksPath(DateTimeOffset from) =>
        $"/api/ads/ad-1/clicks?from={from:yyyy-MM-ddTHH:mm:ssZ}&to={from.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}&granularity=minute";

    private async Task<List<PendingWindow>> PendingAsync() =>
        await new PendingWindows(azurite.Blobs().GetBlobContainerClient(_container + "-reports")).LoadAsync(TestContext.Current.CancellationToken);

    /// <summary>GetAdClicks as the worker invokes it, with the Easy Auth principal of adv-1.</summary>
    private static async Task<JsonNode> ClicksAsync(IServiceProvider services, string pathAndQuery)
    {
        int q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = services };
        context.Request.Method = "GET";
        context.Request.Path = pathAndQuery[..q];
        context.Request.QueryString = new Microsoft.AspNetCore.Http.QueryString(pathAndQuery[q..]);
        context.Request.Headers[ClickFunctions.Azure.Identity.AdvertiserPrincipals.PrincipalIdHeader] = "11111111-1111-1111-1111-111111111111";
        var body = new MemoryStream();
        context.Response.Body = body;
        await ActivatorUtilities.CreateInstance<ClickFunctions.Functions.GetAdClicks>(services).RunAsync(context.Request, "ad-1");
        string text = System.Text.Encoding.UTF8.GetString(body.ToArray());
        Assert.True(context.Response.StatusCode == 200, text);
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task A_store_that_already_matches_gets_nothing_written()
    {
        var noon = TestClicks.Noon;
        await UploadCapture("0", noon, (0, TestClicks.Make("ad-1", "a", noon)), (1, TestClicks.Make("ad-1", "b", noon.AddSeconds(1))));
        await Checkpoint("0", 1);
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns, [Shard("adv-1", "cmp-1", "ad-1"), 1, 2, 0, 0]), Csl("StoredShardTotals"));
        ExpectWindowRecorded("Matched");

        var report = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);

        Assert.Empty(_adx.Mismatches);
        Assert.Equal(ReconcileStatus.Matched, report.Status);
        // The shard totals, then the confirmed window; no per-ad rows, no bucket rows.
        Assert.Equal(["/v2/rest/query", WindowIngestion], _adx.Requests.Select(r => r.PathAndQuery));
    }

    /// <summary>
    /// A run that fails while writing its corrections (here ADX refuses them for good) may have queued some of them
    /// before it failed, so its window stays pending as if they were queued when it started: the run after the settle
    /// time runs that window again (now matching: recorded) before its own due window.
    /// </summary>
    [Fact]
    public async Task A_run_that_fails_while_correcting_leaves_its_window_pending_and_the_next_run_runs_it_again()
    {
        var noon = TestClicks.Noon;
        var ct = TestContext.Current.CancellationToken;
        await UploadCapture("0", noon, (0, TestClicks.Make("ad-1", "a", noon)), (1, TestClicks.Make("ad-1", "b", noon.AddSeconds(1))));
        await Checkpoint("0", 1);
        string shard = Shard("adv-1", "cmp-1", "ad-1");
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns, [shard, 1, 1, 0, 0]), Csl("StoredShardTotals"));
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(StoredColumns,
            ["adv-1", "cmp-1", "ad-1", "2026-11-29T12:00:00.0000000Z", 1, 0, new JsonObject()]), Csl("StoredBucketsInShards", $"dynamic([\"{shard}\"])"));
        _adx.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 403,
            """{"error":{"code":"Forbidden","message":"principal may not ingest","@permanent":true}}""");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 25, 0, TimeSpan.Zero));

        await Assert.ThrowsAsync<KustoPermanentException>(() => Reconciliation(time: time).RunDueWindowAsync(ct));

        var left = Assert.Single(await PendingAsync());
        Assert.Equal((noon, noon.AddMinutes(10), time.GetUtcNow()), (left.From, left.To, left.QueuedAt));

        // 12:35: [12:00, 12:10) first (ADX has both clicks now), then the due [12:10, 12:20) (empty); both recorded.
        time.Advance(TimeSpan.FromMinutes(10));
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns, [shard, 1, 2, 0, 0]), Csl("StoredShardTotals"));
        ExpectWindowRecorded("Matched");
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns), Csl("StoredShardTotals"));
        _adx.Expect("POST", WindowIngestion, 200, """{"Tables":[]}""", r =>
            JsonDocument.Parse(r.Body.Trim()).RootElement.GetProperty("windowFrom").GetDateTimeOffset() == noon.AddMinutes(10) ? null : "not the due window: " + r.Body);

        var due = await Reconciliation(time: time).RunDueWindowAsync(ct);

        Assert.Equal(ReconcileStatus.Matched, due.Status);
        Assert.Equal((noon.AddMinutes(10), noon.AddMinutes(20)), (due.From, due.To));
        Assert.Empty(await PendingAsync());
        Assert.Empty(_adx.Mismatches);
        Assert.Equal(7, _adx.Requests.Count); // 3 in the failed run, 2 per window in the second
    }

    [Fact]
    public async Task A_sequence_gap_in_the_Capture_files_fails_the_run_and_corrects_nothing()
    {
        var noon = TestClicks.Noon;
        await UploadCapture("0", noon, (0, TestClicks.Make("ad-1", "a", noon)));
        await UploadCapture("0", noon.AddMinutes(1), (5, TestClicks.Make("ad-1", "b", noon.AddMinutes(1))));
        await Checkpoint("0", 5);
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken));

        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.Single(_adx.Requests); // a failed run records no window
    }

    [Fact]
    public async Task An_event_the_aggregator_has_not_checkpointed_is_never_corrected()
    {
        var noon = TestClicks.Noon;
        var events = Enumerable.Range(0, 5).Select(i => ((long)i, TestClicks.Make("ad-1", $"imp-{i}", noon.AddSeconds(i)))).ToArray();
        await UploadCapture("0", noon, events);
        await UploadCapture("1", noon, (0L, TestClicks.Make("ad-2", "x", noon)));
        // The aggregator lags on partition 0 (checkpoint at 2: events 3 and 4 not counted yet; ADX has 3 clicks), and
        // partition 1 has no checkpoint at all. Both are unsettled: a correction now would be counted twice later.
        await Checkpoint("0", 2);
        string shard1 = Shard("adv-1", "cmp-1", "ad-1");
        for (int run = 0; run < 2; run++)
        {
            _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns, [shard1, 1, 3, 0, 0]), Csl("StoredShardTotals"));
            var report = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);
            Assert.Equal(ReconcileStatus.Unsettled, report.Status);
            Assert.Contains("partition", report.Message, StringComparison.Ordinal);
            if (run == 0)
            {
                await Checkpoint("0", 4); // partition 0 caught up; partition 1 still has no checkpoint
            }
        }
        Assert.Empty(_adx.Mismatches);
        Assert.Equal(2, _adx.Requests.Count); // shard totals only: never an ingestion, no window recorded

        // Both caught up, and ADX now has what the aggregator counted: nothing to correct.
        await Checkpoint("1", 0);
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns, [shard1, 1, 5, 0, 0], [Shard("adv-1", "cmp-1", "ad-2"), 1, 1, 0, 0]), Csl("StoredShardTotals"));
        ExpectWindowRecorded("Matched");
        Assert.Equal(ReconcileStatus.Matched, (await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken)).Status);
        Assert.Empty(_adx.Mismatches);
    }

    [Fact]
    public async Task Checkpoints_are_found_under_the_lowercased_names_the_SDK_writes()
    {
        await Checkpoint("0", 41);
        await Checkpoint("7", 9);
        await Checkpoint("0", 99, "other-ns.servicebus.windows.net/clicks/$default"); // another namespace's: not ours
        var consumed = await Positions("EVHNS-Test.ServiceBus.Windows.Net", "$Default").ReadAsync(TestContext.Current.CancellationToken);
        Assert.Equal(new Dictionary<string, long> { ["0"] = 42, ["7"] = 10 }, consumed);
        Assert.Empty(await new CheckpointPositions(azurite.Blobs(), Options.Create(new CheckpointOptions
        {
            BlobServiceUri = azurite.BlobEndpoint, Container = "no-such-container", FullyQualifiedNamespace = "evhns-test.servicebus.windows.net", EventHubName = "clicks",
        })).ReadAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_ad_under_two_campaigns_is_two_buckets_in_ADX_too_and_reconciles_without_correcting_them()
    {
        // Issue 13: one bucket key (advertiser, campaign, ad, minute) from Core to every store, ADX included.
        var noon = TestClicks.Noon;
        static ClickEvent Under(string campaign, string impression, DateTimeOffset at) => TestClicks.Make("ad-1", impression, at) with { CampaignId = campaign };
        // Another ad in the shard of (adv-1, cmp-a, ad-1), with one click ADX lost, so that shard's rows are read.
        string shardA = Shard("adv-1", "cmp-a", "ad-1");
        string neighbour = Enumerable.Range(0, 100_000).Select(i => $"n{i}").First(ad => Shard("adv-1", "cmp-1", ad) == shardA);
        await UploadCapture("0", noon,
            (0, Under("cmp-a", "i1", noon)), (1, Under("cmp-a", "i2", noon.AddSeconds(1))), (2, Under("cmp-b", "i3", noon.AddSeconds(2))),
            (3, TestClicks.Make(neighbour, "n", noon.AddSeconds(3))));
        await Checkpoint("0", 3);
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns,
            [shardA, 1, 2, 0, 0], [Shard("adv-1", "cmp-b", "ad-1"), 1, 1, 0, 0]), Csl("StoredShardTotals"));
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(StoredColumns,
            ["adv-1", "cmp-a", "ad-1", "2026-11-29T12:00:00.0000000Z", 2, 0, new JsonObject()]), Csl("StoredBucketsInShards", $"dynamic([\"{shardA}\"])"));
        string? ingested = null;
        _adx.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 200, """{"Tables":[]}""", r => { ingested = r.Body; return null; });
        ExpectWindowRecorded("Corrected");

        var report = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);

        Assert.Empty(_adx.Mismatches);
        Assert.Equal(ReconcileStatus.Corrected, report.Status);
        Assert.Equal(1, report.KeysCorrected); // only the neighbour; ad-1 under cmp-a and under cmp-b match
        Assert.Equal(1, report.ShardsRead);
        var row = JsonDocument.Parse(ingested!.Trim()).RootElement;
        Assert.Equal(neighbour, row.GetProperty("adId").GetString());

        // Once ADX has the correction, every shard matches: Matched, no per-ad rows read.
        _adx.Expect("POST", "/v2/rest/query", 200, V2Responses.WithPrimaryResult(ShardColumns,
            [shardA, 2, 3, 0, 0], [Shard("adv-1", "cmp-b", "ad-1"), 1, 1, 0, 0]), Csl("StoredShardTotals"));
        ExpectWindowRecorded("Matched");
        var again = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);
        Assert.Equal(ReconcileStatus.Matched, again.Status);
        Assert.Equal(0, again.ShardsRead);
        Assert.Empty(_adx.Mismatches);
    }

    [Fact]
    public async Task Rows_of_a_queued_ingestion_ADX_failed_for_good_are_restored_by_the_recount()
    {
        // Decision 064: the aggregator queued two batches of partition 0; ADX ingested the first and failed the second
        // (a renamed mapping), reporting it to the failed-ingestions queue; the drain set it aside. The recount from
        // Capture then restores its clicks as a correction, and the next run finds everything matching.
        await using var dm = await LoopbackIngestService.StartAsync(azurite);
        var noon = TestClicks.Noon;
        var clicks = Enumerable.Range(0, 10).Select(i => TestClicks.Make("ad-1", $"imp-{i}", noon.AddSeconds(i))).ToList();
        await UploadCapture("0", noon, clicks.Select((c, i) => ((long)i, c)).ToArray());
        await Checkpoint("0", 9);
        KustoClient Queued(string mapping) => _adx.Client(configure: o =>
        {
            o.IngestionMode = KustoIngestionMode.Queued;
            o.IngestUri = dm.BaseAddress;
            o.BucketMapping = mapping;
        });
        var claims = new ClickFunctions.Azure.Tables.TableClaimStore(azurite.Tables(),
            Options.Create(new ClickFunctions.Azure.Tables.TableClaimOptions { TableServiceUri = azurite.TableEndpoint, TablePrefix = _container }),
            TestClicks.Clock(), NullLogger<ClickFunctions.Azure.Tables.TableClaimStore>.Instance);
        var deadLetters = new ClickFunctions.Azure.DeadLetters.BlobDeadLetterWriter(azurite.Blobs().GetBlobContainerClient(_container + "-dl"), NullLogger<ClickFunctions.Azure.DeadLetters.BlobDeadLetterWriter>.Instance);
        var step = new ClickFunctions.Aggregation.AggregationStep(claims);
        var events = clicks.Select((c, i) => new ClickFunctions.Ports.RawEvent("0", i, c.Timestamp, ClickWireFormat.Encode(c))).ToList();
        foreach (var (batch, mapping) in new[] { (events[..5], "ClickBucketsJson"), (events[5..], "ClickBucketsJsonRenamed") })
        {
            var aggregator = new ClickFunctions.Azure.Aggregation.ClickAggregator(step, new KustoBucketSink(Queued(mapping)), deadLetters, TestClicks.Metrics(),
                TestClicks.Clock(), NullLogger<ClickFunctions.Azure.Aggregation.ClickAggregator>.Instance, TestClicks.FastRetries());
            await aggregator.AggregateAsync(batch, TestContext.Current.CancellationToken);
        }
        Assert.Equal(2, await dm.DrainAsync(TestContext.Current.CancellationToken));
        Assert.Single(dm.Failures);
        var drained = await new IngestionFailureDrain(Queued("ClickBucketsJson"), deadLetters, TestClicks.Metrics(), Options.Create(new KustoOptions { Database = "clicks" }),
            NullLogger<IngestionFailureDrain>.Instance).DrainAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, drained.DeadLettered);
        Assert.Equal(5, dm.Rows.Values.Sum(r => r.GetProperty("clicks").GetInt64())); // ADX holds half of the window

        // ADX as the loopback server answers the reconciler's two queries over the dedup view: the rows the fake
        // ingestor took, and the corrections streamed since.
        var stored = new System.Collections.Concurrent.ConcurrentDictionary<string, JsonElement>(dm.Rows, StringComparer.Ordinal);
        _adx.QueryAnswer = r => DedupViewAnswer(r, stored.Values);
        var windowRows = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _adx.IngestSink = r =>
        {
            if (r.PathAndQuery == WindowIngestion)
            {
                windowRows.Enqueue(r.Body);
                return;
            }
            foreach (string line in r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var row = JsonDocument.Parse(line).RootElement.Clone();
                stored[row.GetProperty("rowId").GetString()!] = row;
            }
        };

        var report = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);

        Assert.Empty(_adx.Mismatches);
        Assert.Equal(ReconcileStatus.Corrected, report.Status);
        var correction = Assert.Single(stored.Values, r => r.GetProperty("source").GetString() == "correction");
        Assert.Equal(5, correction.GetProperty("clicks").GetInt64());
        Assert.Equal(10, stored.Values.Sum(r => r.GetProperty("clicks").GetInt64())); // every click of the window, once

        var again = await Reconciliation().RunDueWindowAsync(TestContext.Current.CancellationToken);
        Assert.Equal(ReconcileStatus.Matched, again.Status);
        Assert.Equal(10, stored.Values.Sum(r => r.GetProperty("clicks").GetInt64()));
        Assert.Equal(2, windowRows.Count); // the corrected run and the matching re-run each record the window
    }

    /// <summary>
    /// StoredShardTotals.kql and StoredBucketsInShards.kql over rows of the dedup view (one per row id), with their
    /// semantics: buckets summed by (advertiser, campaign, ad, minute) in [fromTime, toTime), zero sums dropped from the
    /// totals, shards by BucketShards.
    /// </summary>
    private static string? DedupViewAnswer(RecordedRequest request, IEnumerable<JsonElement> rows)
    {
        using var body = JsonDocument.Parse(request.Body);
        string csl = body.RootElement.GetProperty("csl").GetString() ?? "";
        var parameters = body.RootElement.GetProperty("properties").GetProperty("Parameters");
        static DateTimeOffset Time(JsonElement p) => DateTimeOffset.Parse(p.GetString()!["datetime(".Length..^1], CultureInfo.InvariantCulture);
        var from = Time(parameters.GetProperty("fromTime"));
        var to = Time(parameters.GetProperty("toTime"));
        var buckets = rows
            .Select(r => (Adv: r.GetProperty("advertiserId").GetString()!, Campaign: r.GetProperty("campaignId").GetString()!, Ad: r.GetProperty("adId").GetString()!,
                Start: r.GetProperty("bucketStart").GetDateTimeOffset(), Clicks: r.GetProperty("clicks").GetInt64(), Invalid: r.GetProperty("invalidClicks").GetInt64(),
                Reasons: r.GetProperty("invalidByReason")))
            .Where(r => r.Start >= from && r.Start < to)
            .GroupBy(r => (r.Adv, r.Campaign, r.Ad, r.Start))
            .Select(g => (g.Key, Clicks: g.Sum(r => r.Clicks), Invalid: g.Sum(r => r.Invalid),
                Reasons: g.SelectMany(r => r.Reasons.ValueKind == JsonValueKind.Object ? r.Reasons.EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())) : [])
                    .GroupBy(p => p.Name).ToDictionary(p => p.Key, p => p.Sum(x => x.Item2)),
                Shard: Shard(g.Key.Adv, g.Key.Campaign, g.Key.Ad)))
            .ToList();
        if (csl == KustoQueries.Load("StoredShardTotals"))
        {
            return V2Responses.WithPrimaryResult(ShardColumns, buckets.Where(b => b.Clicks != 0 || b.Invalid != 0).GroupBy(b => b.Shard)
                .Select(g => new object?[] { g.Key, (long)g.Count(), g.Sum(b => b.Clicks), g.Sum(b => b.Invalid), g.Sum(b => (b.Clicks + b.Invalid) * (long)(b.Key.Start - from).TotalMinutes) })
                .ToArray());
        }
        if (csl == KustoQueries.Load("StoredBucketsInShards"))
        {
            string ids = parameters.GetProperty("shardIds").GetString()!;
            var shards = JsonDocument.Parse(ids["dynamic(".Length..^1]).RootElement.EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
            return V2Responses.WithPrimaryResult(StoredColumns, buckets.Where(b => shards.Contains(b.Shard))
                .Select(b => new object?[] { b.Key.Adv, b.Key.Campaign, b.Key.Ad, b.Key.Start.UtcDateTime.ToString("o", CultureInfo.InvariantCulture), b.Clicks, b.Invalid,
                    new JsonObject(b.Reasons.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value)))) })
                .ToArray());
        }
        return null;
    }
}
