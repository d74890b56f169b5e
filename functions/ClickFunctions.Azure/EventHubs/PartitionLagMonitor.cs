using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Azure.Messaging.EventHubs.Producer;
using ClickFunctions.Azure.Reconciliation;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Azure.EventHubs;

/// <summary>One partition's state as the monitor measured it.</summary>
public readonly record struct PartitionLag(string Partition, long Backlog, TimeSpan Lag);

/// <summary>
/// Lag of every partition measured from the aggregator's checkpoint, on a timer (function MonitorPartitionLag), so a
/// partition that no instance invokes (a stalled or unowned one) still shows in <c>aggregate.lag</c> and its alert:
/// the aggregator itself records lag only when it runs.
/// <para>
/// Per partition: the trigger's checkpoint (<see cref="CheckpointPositions"/>: the next sequence number not
/// consumed) against the partition's last enqueued sequence number
/// (<see cref="EventHubProducerClient.GetPartitionPropertiesAsync"/>) gives the backlog in events; when it is
/// non-zero, the oldest unconsumed event is read (one event, through a <see cref="PartitionReceiver"/> on the
/// monitor's own consumer group, so it never competes with the trigger's exclusive readers) and the lag is its age:
/// now minus its enqueued time, in milliseconds like the alert. A caught-up partition has lag 0. A partition
/// whose first unconsumed event has expired from the hub reads from the oldest retained one (its age is then a
/// lower bound, and the loss shows in reconciliation as a gap).
/// </para>
/// "Number of calls to the GetRuntimeInformation method: 50 per second" per namespace (Event Hubs quotas): one
/// call per partition per run (32 a minute) stays far under it.
/// </summary>
public sealed partial class PartitionLagMonitor(
    EventHubProducerClient hub,
    CheckpointPositions checkpoints,
    Func<string, long, PartitionReceiver> receiverAt,
    AzureClickMetrics metrics,
    TimeProvider time,
    ILogger<PartitionLagMonitor> logger)
{
    public static readonly TimeSpan ReadWait = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<PartitionLag>> MeasureAsync(CancellationToken cancellationToken)
    {
        var positions = await checkpoints.ReadCheckpointsAsync(cancellationToken).ConfigureAwait(false);
        var lags = new List<PartitionLag>();
        foreach (string partition in await hub.GetPartitionIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            var properties = await hub.GetPartitionPropertiesAsync(partition, cancellationToken).ConfigureAwait(false);
            long next = positions.TryGetValue(partition, out var checkpoint) ? checkpoint.Next : 0;
            // The oldest retained event when nothing (or something already expired) was consumed.
            next = Math.Max(next, properties.IsEmpty ? next : properties.BeginningSequenceNumber);
            long backlog = properties.IsEmpty ? 0 : Math.Max(0, properties.LastEnqueuedSequenceNumber - next + 1);
            var lag = TimeSpan.Zero;
            if (backlog > 0)
            {
                var oldest = await EnqueuedTimeAsync(partition, next, cancellationToken).ConfigureAwait(false);
                // If the event cannot be read in time, the newest one's age is a lower bound that still grows with a stall.
                lag = time.GetUtcNow() - (oldest ?? properties.LastEnqueuedTime);
            }
            metrics.PartitionLag(partition, lag, backlog);
            lags.Add(new PartitionLag(partition, backlog, lag < TimeSpan.Zero ? TimeSpan.Zero : lag));
            if (backlog > 0)
            {
                Log.Behind(logger, partition, backlog, lag);
            }
        }
        return lags;
    }

    private async Task<DateTimeOffset?> EnqueuedTimeAsync(string partition, long sequence, CancellationToken cancellationToken)
    {
        var receiver = receiverAt(partition, sequence);
        await using (receiver.ConfigureAwait(false))
        {
            var events = await receiver.ReceiveBatchAsync(1, ReadWait, cancellationToken).ConfigureAwait(false);
            return events.FirstOrDefault()?.EnqueuedTime;
        }
    }

    /// <summary>The production receiver: the monitor's consumer group, from <paramref name="sequence"/> inclusive.</summary>
    public static PartitionReceiver Receiver(string consumerGroup, string fullyQualifiedNamespace, string eventHubName, global::Azure.Core.TokenCredential credential, string partition, long sequence) =>
        new(consumerGroup, partition, EventPosition.FromSequenceNumber(sequence, isInclusive: true), fullyQualifiedNamespace, eventHubName, credential);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Partition {Partition} is {Backlog} events behind, oldest unconsumed event {Lag} old")]
        public static partial void Behind(ILogger logger, string partition, long backlog, TimeSpan lag);
    }
}
