using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Aggregation;
using ClickFunctions.Azure.DeadLetters;
using ClickFunctions.Azure.EventHubs;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tables;
using ClickFunctions.Azure.Tests.EventHubs;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Clicks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tests.Rehearsal;

/// <summary>
/// The design-load rehearsal (run by tests/load/azure-rehearsal.sh, not by `dotnet test`: it is Explicit). It drives
/// the real Azure adapters with a scaled model of the design load and writes one line of figures:
/// <list type="number">
/// <item>Publish: simulated Functions instances (one <see cref="EventHubClickLog"/> each, sharing nothing) take clicks
///   at the design rate (10k/s) over a 10M-ad key space with Zipf skew plus one ad at half of all traffic, with 2%
///   double clicks taken by another instance, into the Event Hubs fake, which enforces a throughput unit per partition
///   and the namespace's units as provisioned in infra/main.bicep, and models each send's service time.</item>
/// <item>Aggregate: the events of a sample of partitions go through the trigger handler (<see cref="ClickAggregator"/>)
///   with Table claims on Azurite (every Table HTTP request counted) and ADX ingestion on the loopback server, in
///   trigger-sized batches, with one batch redelivered (a crash before its checkpoint).</item>
/// <item>Check: what ADX's dedup view would hold against the distinct valid clicks of those partitions.</item>
/// </list>
/// Of the ~20 instances the design load needs, a few are simulated at their share of the design rate and the ingress
/// figures are scaled to all of them (and, if this machine fell short of the run rate, from the achieved rate); the
/// details line says by how much.
/// </summary>
public sealed class DesignLoadRehearsal(Azurite azurite)
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : fallback;

    [Fact(Explicit = true)]
    public async Task Design_load()
    {
        var ct = TestContext.Current.CancellationToken;
        int rate = Setting("REHEARSAL_RATE", 10_000);
        int seconds = Setting("REHEARSAL_SECONDS", 15);
        // The design load spreads over `instances` Functions instances (~20 at 10k/s, docs/deploy.md); `simulated` of
        // them run here, each at its share of the design rate, and the ingress figures are scaled by instances /
        // simulated (the partition of a click depends on its id only, so every instance adds the same share to every
        // partition). A shared 2-core machine cannot host 20 instances' worth of CPU and still measure latency.
        int instances = Setting("REHEARSAL_INSTANCES", 20);
        int simulated = Math.Clamp(Setting("REHEARSAL_SIMULATED_INSTANCES", 2), 1, instances);
        int partitions = Setting("REHEARSAL_PARTITIONS", 32);
        int aggregatedPartitions = Setting("REHEARSAL_AGGREGATED_PARTITIONS", 4);
        int sendLatencyMs = Setting("REHEARSAL_SEND_LATENCY_MS", 5);
        const int Ads = 10_000_000;
        int provisionedUnits = BicepDefault("eventHubsCapacity");
        int inflateCeiling = Math.Max(provisionedUnits, BicepDefault("eventHubsMaximumThroughputUnits"));

        // --- the workload, generated before the clock starts (capture's own work is not what is measured here) ---
        var random = new Random(11);
        int runRate = rate * simulated / instances;
        int total = runRate * seconds;
        var start = DateTimeOffset.UtcNow;
        var clicks = new ClickEvent[total];
        for (int i = 0; i < total; i++)
        {
            string ad = random.NextDouble() < 0.5 ? "ad-hot" : "ad-" + ZipfRank(random, Ads).ToString(CultureInfo.InvariantCulture);
            var at = start.AddTicks(TimeSpan.TicksPerSecond * i / runRate);
            clicks[i] = i > 0 && random.NextDouble() < 0.02
                ? clicks[random.Next(Math.Max(0, i - 1000), i)] with { Timestamp = at } // a double click: same impression, same id
                : TestClicks.Make(ad, "imp-" + i.ToString(CultureInfo.InvariantCulture), at);
        }

        // --- publish ---
        // Every partition is held to one throughput unit; the namespace to the auto-inflate ceiling the Bicep sets
        // (sustained need is compared with the provisioned base below).
        var hub = new EventHubsFake(TimeProvider.System, partitions, inflateCeiling) { SendLatency = TimeSpan.FromMilliseconds(sendLatencyMs) };
        var logs = Enumerable.Range(0, simulated).Select(_ => new EventHubClickLog(hub,
            Options.Create(new EventHubClickLogOptions { FullyQualifiedNamespace = "ns", EventHubName = "clicks" }),
            TestClicks.Metrics(), TimeProvider.System, NullLogger<EventHubClickLog>.Instance)).ToList();
        var latencies = new double[total];
        var appends = new Task[total];
        int failed = 0;
        var clock = Stopwatch.StartNew();
        int next = 0;
        while (next < total)
        {
            int due = (int)Math.Min(total, (long)(clock.Elapsed.TotalSeconds * runRate));
            for (; next < due; next++)
            {
                int index = next;
                var log = logs[random.Next(simulated)];
                appends[index] = TimedAppend(log, clicks[index], latencies, index, () => Interlocked.Increment(ref failed), ct);
            }
            await Task.Delay(1, ct);
        }
        await Task.WhenAll(appends);
        double elapsed = clock.Elapsed.TotalSeconds;
        foreach (var log in logs)
        {
            await log.DisposeAsync();
        }
        double achieved = total / elapsed;
        double scale = (double)instances / simulated * Math.Max(1.0, runRate / achieved);
        Array.Sort(latencies);
        double p99 = latencies[(int)(0.99 * (total - 1))];
        double p50 = latencies[(total - 1) / 2];

        // --- aggregate a sample of partitions through the trigger handler, Table claims and ADX ---
        await using var adx = await LoopbackKusto.StartAsync();
        await using var dm = await LoopbackIngestService.StartAsync(azurite);
        dm.DuplicateEvery = 7; // queued ingestion is at least once: every 7th blob is ingested twice
        var rows = new ConcurrentDictionary<string, JsonElement>(StringComparer.Ordinal);
        int streamedRequests = 0;
        adx.IngestSink = r =>
        {
            Interlocked.Increment(ref streamedRequests);
            foreach (string line in r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var row = JsonDocument.Parse(line).RootElement.Clone();
                rows[row.GetProperty("rowId").GetString()!] = row; // ClickBucketsDedup: one row per id
            }
        };
        // Managed ingestion as deployed, its 4 GB/h guideline scaled like the traffic: each sampled partition holds
        // `seconds` of 1/scale of its design traffic, where the budget judges a partition by its last minute.
        double guidelineScale = scale * 60.0 / Math.Max(1, seconds);
        long scaledGuideline = (long)(new KustoOptions().StreamingMaxBytesPerHour / guidelineScale);
        var kusto = adx.Client(configure: o =>
        {
            o.IngestionMode = KustoIngestionMode.Managed;
            o.IngestUri = dm.BaseAddress;
            o.SourcePartitions = partitions;
            o.StreamingMaxBytesPerHour = Math.Max(1_000_000, scaledGuideline);
        });
        var counting = new CountingPolicy();
        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(counting, HttpPipelinePosition.PerRetry);
        string prefix = "r" + Guid.NewGuid().ToString("N")[..10];
        var claims = new TableClaimStore(azurite.Tables(tableOptions), Options.Create(new TableClaimOptions { TableServiceUri = azurite.TableEndpoint, TablePrefix = prefix }),
            TimeProvider.System, NullLogger<TableClaimStore>.Instance);
        var aggregator = new ClickAggregator(new AggregationStep(claims), new KustoBucketSink(kusto),
            new BlobDeadLetterWriter(azurite.Blobs().GetBlobContainerClient(prefix), NullLogger<BlobDeadLetterWriter>.Instance),
            TestClicks.Metrics(), TimeProvider.System, NullLogger<ClickAggregator>.Instance, TestClicks.FastRetries(), new PartitionBacklog(hub, TimeProvider.System));
        int aggregatedEvents = 0;
        long replayRequests = 0;
        int replayedEvents = 0;
        var aggregateClock = Stopwatch.StartNew();
        var consumed = new List<ClickEvent>();
        foreach (string partition in hub.PartitionIds.Take(aggregatedPartitions))
        {
            long position = 0;
            bool replayed = false;
            while (true)
            {
                var batch = hub.Read(partition, position, 1000); // host.json maxEventBatchSize
                if (batch.Count == 0)
                {
                    break;
                }
                await aggregator.AggregateAsync(batch.ToArray(), partition, ct);
                if (!replayed)
                {
                    // The instance dies before the checkpoint: the trigger delivers the same batch again.
                    replayed = true;
                    long before = counting.Requests;
                    await aggregator.AggregateAsync(batch.ToArray(), partition, ct);
                    replayRequests += counting.Requests - before;
                    replayedEvents += batch.Count;
                }
                aggregatedEvents += batch.Count;
                consumed.AddRange(batch.Select(e => ClickWireFormat.Decode(e.EventBody.ToArray())));
                position += batch.Count;
            }
        }
        Assert.Empty(adx.Mismatches);
        // The service ingests what was queued (after its batching); the dedup view holds one row per id.
        int queuedBlobs = await dm.DrainAsync(ct);
        Assert.Empty(dm.Failures);
        foreach (var (id, row) in dm.Rows)
        {
            rows[id] = row;
        }
        double aggregateSeconds = aggregateClock.Elapsed.TotalSeconds;

        // --- what the dedup view would hold against the distinct valid clicks of those partitions ---
        var expected = consumed.DistinctBy(c => c.ClickId).Where(c => c.Reason == ClickReason.Valid)
            .GroupBy(c => (c.AdId, Minute: TimeBuckets.FloorToMinute(c.Timestamp))).ToDictionary(g => g.Key, g => (long)g.Count());
        var counted = rows.Values.GroupBy(r => (AdId: r.GetProperty("adId").GetString()!, Minute: r.GetProperty("bucketStart").GetDateTimeOffset()))
            .ToDictionary(g => g.Key, g => g.Sum(r => r.GetProperty("clicks").GetInt64()));
        long lost = expected.Sum(e => Math.Max(0, e.Value - counted.GetValueOrDefault(e.Key)));
        long doubled = counted.Sum(c => Math.Max(0, c.Value - expected.GetValueOrDefault(c.Key)));

        double partitionEvents = hub.PeakPartitionEventsPerSecond * scale;
        double partitionMb = hub.PeakPartitionBytesPerSecond * scale / 1_000_000.0;
        // The units the design load needs: its sustained ingress (events and bytes accepted over the run, at the design rate).
        long acceptedBytes = hub.PartitionIds.Sum(p => hub.Read(p, 0, int.MaxValue).Sum(EventHubsFake.SizeOf));
        int units = (int)Math.Ceiling(Math.Max(total * scale / elapsed / EventHubsFake.EventsPerSecondPerUnit, acceptedBytes * scale / elapsed / EventHubsFake.BytesPerSecondPerUnit));
        int peakUnits = (int)Math.Ceiling(Math.Max(hub.PeakNamespaceEventsPerSecond * scale / EventHubsFake.EventsPerSecondPerUnit, hub.PeakNamespaceBytesPerSecond * scale / (double)EventHubsFake.BytesPerSecondPerUnit));
        // Steady state: every event once. The redelivered batch is reported on its own (an insert that conflicts
        // with its own claim plus one point read per event).
        double tablePerClick = (double)(counting.Requests - replayRequests) / aggregatedEvents;

        long storedRows = StoredBucketRows(expected.Count, aggregatedPartitions, partitions, seconds, scale);

        // --- the reconciler's reads at the design load, answered and counted by the loopback server ---
        // A reconcile window (Reconcile:Span, 10 min) holds this run's keys per minute scaled to the design load, in
        // every minute; the real KustoBucketCorrections reads the shard totals, then the per-ad rows of differing
        // shards packed into queries of at most Kusto:MaxRowsPerQuery. Worst case every shard differs: every query of
        // that plan is run (one group at a time, so this process holds one answer's buckets, not the window's).
        var window = TimeBuckets.FloorToMinute(start);
        var readModel = new ReconcileReadModel((int)Math.Clamp(storedRows / 15, 1, 2_000_000), 10, window);
        adx.QueryAnswer = readModel.Answer;
        var reconcileClock = Stopwatch.StartNew();
        var reconcileReads = new KustoBucketCorrections(kusto, new KustoOptions());
        var shardTotals = await reconcileReads.ReadShardTotalsAsync(window, window.AddMinutes(10), ct);
        var differing = shardTotals.Totals.ToDictionary(t => t.Key, t => t.Value.Buckets, StringComparer.Ordinal);
        var plan = KustoBucketCorrections.Groups(differing, new KustoOptions().MaxRowsPerQuery);
        long differingRows = 0;
        foreach (var group in plan)
        {
            var asked = group.ToDictionary(s => s, s => differing[s], StringComparer.Ordinal);
            var (readBuckets, _) = await reconcileReads.ReadShardsAsync(window, window.AddMinutes(10), asked, ct);
            Assert.Equal(asked.Values.Sum(), readBuckets.Count); // nothing truncated away
            differingRows += readBuckets.Count;
        }
        Assert.Equal(readModel.Buckets, differingRows); // every bucket of the window was read
        Assert.Equal(plan.Count + 1, adx.ReturnedRows.Count); // the shard totals, then every query of the plan
        double reconcileSeconds = reconcileClock.Elapsed.TotalSeconds;
        long reconcileMaxRows = adx.ReturnedRows.Max();
        int reconcileQueries = adx.ReturnedRows.Count;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"table_requests_per_click={tablePerClick:0.00} partition_events_per_s_max={partitionEvents:0} partition_mb_per_s_max={partitionMb:0.000} throughput_units={units} publish_added_p99_ms={p99:0.0} reconcile_max_rows={reconcileMaxRows} lost={lost} double={doubled}");
        string details = string.Create(CultureInfo.InvariantCulture,
            $"rate_target={rate} instances={instances} simulated_instances={simulated} run_rate={runRate} rate_achieved={achieved:0} scale={scale:0.00} seconds={seconds} partitions={partitions} provisioned_units={provisionedUnits} clicks={total} publish_failures={failed} server_busy={hub.ServerBusyAnswers} aggregated_partitions={aggregatedPartitions} aggregated_events={aggregatedEvents} table_requests={counting.Requests - replayRequests} replayed_events={replayedEvents} replay_table_requests_per_event={(replayedEvents == 0 ? 0 : (double)replayRequests / replayedEvents):0.00} send_latency_ms={sendLatencyMs} publish_p50_ms={p50:0.0} peak_1s_units={peakUnits} inflate_ceiling_units={inflateCeiling} publish_seconds={elapsed:0.0} aggregate_seconds={aggregateSeconds:0.0} window_bucket_rows_modelled={storedRows} reconcile_window_buckets={readModel.Buckets} reconcile_shards={shardTotals.Totals.Count} reconcile_queries_run={reconcileQueries} reconcile_queries_planned={plan.Count + 1} reconcile_rows_read={differingRows} reconcile_seconds={reconcileSeconds:0.0} reconcile_max_rows_by_plan={ReconcileMaxRows(storedRows)} streamed_requests={streamedRequests} queued_blobs={queuedBlobs} queued_rows_raw={dm.RawRowsIngested} streaming_guideline_scaled_bytes_per_h={scaledGuideline}");
        TestContext.Current.SendDiagnosticMessage(details);
        TestContext.Current.SendDiagnosticMessage(line);
        if (Environment.GetEnvironmentVariable("REHEARSAL_OUT") is { Length: > 0 } output)
        {
            await File.WriteAllTextAsync(output, details + "\n" + line + "\n", ct);
        }
    }

    /// <summary>
    /// Rows of one reconcile window's (ad, minute) buckets at the design load, modelled from this run's keys: what the
    /// former single stored-bucket query returned (one row per (ad, minute) of the window).
    /// </summary>
    private static long StoredBucketRows(int keysInSample, int sampledPartitions, int partitions, double publishSeconds, double scale)
    {
        // Keys per minute of traffic over all partitions, times the reconcile span (Capture window 5 min + lateness 10 min).
        double keysPerMinute = keysInSample * ((double)partitions / Math.Max(1, sampledPartitions)) * scale * (60.0 / Math.Max(1, publishSeconds));
        return (long)(keysPerMinute * 15);
    }

    /// <summary>
    /// The largest reconcile read, modelled on the reconciler's query plan (docs/decisions/061): one shard-totals query
    /// of at most <c>BucketShards.Count</c> rows, then per-ad rows only of differing shards, in
    /// groups of at most <see cref="KustoOptions.MaxRowsPerQuery"/> rows. Worst case: every shard differs.
    /// </summary>
    private static long ReconcileMaxRows(long storedBucketRows) =>
        Math.Max(ClickFunctions.Reconciliation.BucketShards.Count, Math.Min(new KustoOptions().MaxRowsPerQuery, storedBucketRows));

    private static async Task TimedAppend(EventHubClickLog log, ClickEvent click, double[] latencies, int index, Action onFailure, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            await log.AppendAsync(click, ct);
        }
        catch (Ports.ClickLogUnavailableException)
        {
            onFailure();
        }
        latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    /// <summary>Zipf(s=1) rank over n items by inverting its continuous CDF, ln k / ln n.</summary>
    private static long ZipfRank(Random random, long n) => Math.Clamp((long)Math.Exp(random.NextDouble() * Math.Log(n)), 1, n);

    /// <summary>An integer parameter's default in infra/main.bicep (eventHubsCapacity, eventHubsMaximumThroughputUnits).</summary>
    private static int BicepDefault(string parameter)
    {
        string bicep = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "infra", "main.bicep"));
        var match = Regex.Match(bicep, $@"param {Regex.Escape(parameter)} int = (\d+)", RegexOptions.None, TimeSpan.FromSeconds(1));
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"infra/main.bicep has no integer default for {parameter}.");
    }

    private sealed class CountingPolicy : HttpPipelineSynchronousPolicy
    {
        private long _requests;

        public long Requests => Interlocked.Read(ref _requests);

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _requests);
    }
}
