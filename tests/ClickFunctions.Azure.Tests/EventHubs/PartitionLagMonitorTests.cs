using System.Diagnostics.Metrics;
using System.Globalization;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Primitives;
using Azure.Messaging.EventHubs.Producer;
using ClickFunctions.Azure.EventHubs;
using ClickFunctions.Azure.Reconciliation;
using ClickFunctions.Azure.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Azure.Tests.EventHubs;

/// <summary>
/// Finding 6 (a stalled partition is silent): the timer-driven monitor measures every partition's lag from the
/// trigger's checkpoint (blobs in Azurite, the SDK's layout) against the Event Hubs fake's last enqueued sequence,
/// reading the oldest unconsumed event through a <see cref="PartitionReceiver"/> on the SDK's mocking seam, whether or
/// not any aggregator runs, and records it in the alert's unit.
/// </summary>
public sealed class PartitionLagMonitorTests(Azurite azurite)
{
    /// <summary>A receiver over the fake's stored events (PartitionReceiver's protected constructor and virtual members).</summary>
    private sealed class FakeReceiver(EventHubsFake hub, string partition, long from) : PartitionReceiver
    {
        public override Task<IEnumerable<EventData>> ReceiveBatchAsync(int maximumEventCount, TimeSpan maximumWaitTime, CancellationToken cancellationToken = default)
        {
            return Task.FromResult<IEnumerable<EventData>>(hub.Read(partition, from, maximumEventCount));
        }

        public override Task CloseAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private static async Task Send(EventHubsFake hub, string partition, int events)
    {
        using var batch = await hub.CreateBatchAsync(new CreateBatchOptions { PartitionId = partition });
        for (int i = 0; i < events; i++)
        {
            Assert.True(batch.TryAdd(new EventData(new byte[100])));
        }
        await hub.SendAsync(batch);
    }

    [Fact]
    public async Task Every_partition_gets_lag_and_backlog_from_its_checkpoint_even_when_no_aggregator_runs()
    {
        var ct = TestContext.Current.CancellationToken;
        var start = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(start);
        var hub = new EventHubsFake(time, partitionCount: 4);
        string container = "lag" + Guid.NewGuid().ToString("N")[..12];
        var checkpoints = azurite.Blobs().GetBlobContainerClient(container);
        await checkpoints.CreateAsync(cancellationToken: ct);
        async Task Checkpoint(string partition, long sequence) =>
            await checkpoints.GetBlobClient($"evhns-test.servicebus.windows.net/clicks/aggregator/checkpoint/{partition}").UploadAsync(new MemoryStream(),
                new global::Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = new Dictionary<string, string> { ["sequencenumber"] = sequence.ToString(CultureInfo.InvariantCulture), ["offset"] = "" } }, ct);

        // Partition 0: 10 events at 10:00, all consumed. Partition 1: 10 at 10:00 and 10 at 10:01:30, checkpoint at
        // sequence 9 then stalled (no instance runs it). Partition 2: 5 events at 10:00, never checkpointed. Partition 3: empty.
        await Send(hub, "0", 10);
        await Send(hub, "1", 10);
        await Send(hub, "2", 5);
        await Checkpoint("0", 9);
        await Checkpoint("1", 9);
        time.Advance(TimeSpan.FromSeconds(90));
        await Send(hub, "1", 10);
        time.Advance(TimeSpan.FromSeconds(150)); // now 10:04

        var meters = TestClicks.Meters();
        var lags = new List<(string Partition, string Name, string? Unit, double Value)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name is "aggregate.lag" or "aggregate.backlog")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "partition")
                {
                    lags.Add(((string)tag.Value!, i.Name, i.Unit, v));
                }
            }
        }
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();

        var positions = new CheckpointPositions(azurite.Blobs(), Options.Create(new CheckpointOptions
        {
            BlobServiceUri = azurite.BlobEndpoint, Container = container, FullyQualifiedNamespace = "evhns-test.servicebus.windows.net", EventHubName = "clicks", ConsumerGroup = "aggregator",
        }));
        var monitor = new PartitionLagMonitor(hub, positions, (partition, sequence) => new FakeReceiver(hub, partition, sequence),
            new AzureClickMetrics(meters), time, NullLogger<PartitionLagMonitor>.Instance);
        var measured = (await monitor.MeasureAsync(ct)).ToDictionary(l => l.Partition);

        Assert.Equal(new PartitionLag("0", 0, TimeSpan.Zero), measured["0"]);
        // Oldest unconsumed event of partition 1 is sequence 10, enqueued at 10:01:30: 150 s old, 10 events behind.
        Assert.Equal(new PartitionLag("1", 10, TimeSpan.FromSeconds(150)), measured["1"]);
        // Never checkpointed: from the first retained event (10:00), 240 s old.
        Assert.Equal(new PartitionLag("2", 5, TimeSpan.FromSeconds(240)), measured["2"]);
        Assert.Equal(new PartitionLag("3", 0, TimeSpan.Zero), measured["3"]);

        // Recorded per partition, lag in the unit the alert compares with (MonitoringTests ties LagUnit to its threshold).
        Assert.Equal(150_000, lags.Single(l => l.Partition == "1" && l.Name == AzureClickMetrics.LagMetric).Value);
        Assert.All(lags.Where(l => l.Name == AzureClickMetrics.LagMetric), l => Assert.Equal(AzureClickMetrics.LagUnit, l.Unit));
        Assert.Equal("ms", AzureClickMetrics.LagUnit);
        Assert.Equal(10, lags.Single(l => l.Partition == "1" && l.Name == "aggregate.backlog").Value);
        Assert.Equal(4, lags.Count(l => l.Name == AzureClickMetrics.LagMetric)); // every partition, the idle and empty ones too

        // The stall keeps growing on the next run: nothing moved, a minute passed.
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.FromSeconds(210), (await monitor.MeasureAsync(ct)).Single(l => l.Partition == "1").Lag);
        await checkpoints.DeleteAsync(cancellationToken: ct);
    }
}
