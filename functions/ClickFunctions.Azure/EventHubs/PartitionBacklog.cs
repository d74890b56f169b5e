using System.Collections.Concurrent;
using Azure.Messaging.EventHubs.Producer;

namespace ClickFunctions.Azure.EventHubs;

/// <summary>What Event Hubs reports as a partition's newest event: its sequence number and enqueued time.</summary>
public readonly record struct LastEnqueued(long SequenceNumber, DateTimeOffset EnqueuedTime);

/// <summary>
/// The partitions' last enqueued events, for measuring the aggregator's backlog from its checkpoint. The isolated
/// worker does not see the trigger's <c>LastEnqueuedEventProperties</c> (the host passes the partition context to
/// the worker as JSON with namespace, hub, consumer group and partition id only), so this asks the service through
/// the producer client's <see cref="EventHubProducerClient.GetPartitionPropertiesAsync"/>, at most once per
/// <see cref="RefreshInterval"/> per partition: "Number of calls to the GetRuntimeInformation method: 50 per second"
/// per namespace (Microsoft Learn, "Azure Event Hubs quotas and limits").
/// </summary>
public sealed class PartitionBacklog(EventHubProducerClient client, TimeProvider time)
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, (long At, LastEnqueued? Value)> _cache = new(StringComparer.Ordinal);

    /// <summary>The partition's last enqueued event, or null when the partition is empty or the service could not be asked.</summary>
    public async Task<LastEnqueued?> LastEnqueuedAsync(string partitionId, CancellationToken cancellationToken)
    {
        long now = time.GetTimestamp();
        if (_cache.TryGetValue(partitionId, out var cached) && time.GetElapsedTime(cached.At, now) < RefreshInterval)
        {
            return cached.Value;
        }
        LastEnqueued? value;
        try
        {
            var properties = await client.GetPartitionPropertiesAsync(partitionId, cancellationToken).ConfigureAwait(false);
            value = properties.IsEmpty ? null : new LastEnqueued(properties.LastEnqueuedSequenceNumber, properties.LastEnqueuedTime);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Lag is telemetry: a failed look-up must not fail the batch. Keep the last known value.
            value = cached.Value;
        }
        _cache[partitionId] = (now, value);
        return value;
    }
}
