using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Microsoft.Extensions.Time.Testing;

namespace ClickFunctions.Azure.Tests.EventHubs;

/// <summary>
/// The fake enforces what Microsoft documents for a throughput unit ("Ingress: Up to 1 MB per second or 1,000 events
/// per second (whichever comes first)", "Scaling with Event Hubs") per partition and per namespace, and the 1 MB
/// publication limit of Standard ("Azure Event Hubs quotas and limits"). If it accepted anything, the publisher's
/// partitioning and retry tests would prove nothing.
/// </summary>
public sealed class EventHubsFakeTests
{
    private static async Task SendAsync(EventHubsFake hub, string partitionId, int events, int bodyBytes = 100)
    {
        var ct = TestContext.Current.CancellationToken;
        int sent = 0;
        while (sent < events)
        {
            using var batch = await hub.CreateBatchAsync(new CreateBatchOptions { PartitionId = partitionId }, ct);
            while (sent < events && batch.TryAdd(new EventData(new byte[bodyBytes])))
            {
                sent++;
            }
            await hub.SendAsync(batch, ct);
        }
    }

    [Fact]
    public async Task A_partition_takes_1000_events_per_second_and_answers_ServerBusy_beyond_until_the_second_has_passed()
    {
        var time = new FakeTimeProvider();
        var hub = new EventHubsFake(time, partitionCount: 2);
        await SendAsync(hub, "0", 1000);
        var busy = await Assert.ThrowsAsync<EventHubsException>(() => SendAsync(hub, "0", 1));
        Assert.Equal(EventHubsException.FailureReason.ServiceBusy, busy.Reason);
        Assert.True(busy.IsTransient);

        await SendAsync(hub, "1", 1000); // another partition has its own unit
        time.Advance(TimeSpan.FromSeconds(1));
        await SendAsync(hub, "0", 1);
        Assert.Equal(1001, hub.Count("0"));
        Assert.Equal(1000, hub.PeakPartitionEventsPerSecond);
    }

    [Fact]
    public async Task A_partition_takes_1_MB_per_second_however_few_the_events()
    {
        var time = new FakeTimeProvider();
        var hub = new EventHubsFake(time, partitionCount: 1);
        await SendAsync(hub, "0", 9, bodyBytes: 100_000);
        var busy = await Assert.ThrowsAsync<EventHubsException>(() => SendAsync(hub, "0", 1, bodyBytes: 100_000));
        Assert.Equal(EventHubsException.FailureReason.ServiceBusy, busy.Reason);
        Assert.Equal(9, hub.Count("0"));
    }

    [Fact]
    public async Task The_namespace_takes_1000_events_per_second_per_throughput_unit_over_all_partitions()
    {
        var time = new FakeTimeProvider();
        var hub = new EventHubsFake(time, partitionCount: 4, throughputUnits: 2);
        await SendAsync(hub, "0", 800);
        await SendAsync(hub, "1", 800);
        await Assert.ThrowsAsync<EventHubsException>(() => SendAsync(hub, "2", 401));
        await SendAsync(hub, "2", 400);
    }

    [Fact]
    public async Task A_batch_holds_at_most_one_publication_of_1_MB()
    {
        var hub = new EventHubsFake(new FakeTimeProvider());
        using var batch = await hub.CreateBatchAsync(new CreateBatchOptions { PartitionId = "0" }, TestContext.Current.CancellationToken);
        Assert.True(batch.TryAdd(new EventData(new byte[600_000])));
        Assert.False(batch.TryAdd(new EventData(new byte[600_000])));
        await Assert.ThrowsAsync<EventHubsException>(async () => await hub.CreateBatchAsync(new CreateBatchOptions { PartitionId = "32" }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Accepted_events_get_sequence_numbers_and_the_partition_reports_its_last_enqueued_event()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var hub = new EventHubsFake(time, partitionCount: 1);
        await SendAsync(hub, "0", 3);
        time.Advance(TimeSpan.FromSeconds(2));
        await SendAsync(hub, "0", 2);
        var events = hub.Read("0", 0, 10);
        Assert.Equal([0L, 1, 2, 3, 4], events.Select(e => e.SequenceNumber));
        var properties = await hub.GetPartitionPropertiesAsync("0", TestContext.Current.CancellationToken);
        Assert.Equal(4, properties.LastEnqueuedSequenceNumber);
        Assert.Equal(time.GetUtcNow(), properties.LastEnqueuedTime);
        Assert.Equal(4, hub.LastEnqueued("0").SequenceNumber);
    }
}
