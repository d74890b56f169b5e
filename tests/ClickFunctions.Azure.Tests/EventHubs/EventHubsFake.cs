using System.Collections.Concurrent;
using System.Globalization;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Producer;

namespace ClickFunctions.Azure.Tests.EventHubs;

/// <summary>
/// An Event Hubs namespace with one hub, behind <see cref="EventHubProducerClient"/>'s mocking seams (the protected
/// constructor, the virtual members, <see cref="EventHubsModelFactory"/>), that enforces the service's documented
/// ingress limits instead of accepting anything:
/// <list type="bullet">
/// <item>a throughput unit allows "Ingress: Up to 1 MB per second or 1,000 events per second (whichever comes first)",
///   and "beyond the capacity of the purchased throughput units, ingress is throttled and Event Hubs throws a
///   ServerBusyException" (Microsoft Learn, "Scaling with Event Hubs",
///   https://learn.microsoft.com/azure/event-hubs/event-hubs-scalability). Enforced per partition (a partition never
///   gets more than one unit) and for the namespace (<see cref="ThroughputUnits"/>), over a sliding one-second window
///   on the injected clock; a send beyond either is refused whole with
///   <see cref="EventHubsException.FailureReason.ServiceBusy"/>, as the service does;</item>
/// <item>"Maximum size of Event Hubs publication: 1 MB" on Standard (Microsoft Learn, "Azure Event Hubs quotas and
///   limits", https://learn.microsoft.com/azure/event-hubs/event-hubs-quotas): batches refuse events beyond it;</item>
/// <item>"Number of partitions per event hub: 32" on Standard (same page).</item>
/// </list>
/// Accepted events are stored per partition with sequence numbers and enqueued times, for a consumer to read.
/// </summary>
public sealed class EventHubsFake : EventHubProducerClient
{
    public const int EventsPerSecondPerUnit = 1_000;
    public const long BytesPerSecondPerUnit = 1_000_000;
    public const long MaxPublicationBytes = 1_000_000;
    public const int StandardMaxPartitions = 32;

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly string[] _partitionIds;
    private readonly ConcurrentDictionary<EventDataBatch, (List<EventData> Events, CreateBatchOptions Options)> _batches = new();
    private readonly Lock _gate = new();
    private readonly Queue<(long At, int Partition, int Events, long Bytes)> _window = new();
    private readonly int[] _windowEvents;
    private readonly long[] _windowBytes;
    private readonly List<EventData>[] _stored;
    private int _roundRobin;

    public EventHubsFake(TimeProvider time, int partitionCount = StandardMaxPartitions, int throughputUnits = 12, string eventHubName = "clicks")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitionCount, StandardMaxPartitions);
        _time = time;
        HubName = eventHubName;
        ThroughputUnits = throughputUnits;
        _partitionIds = Enumerable.Range(0, partitionCount).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        _windowEvents = new int[partitionCount];
        _windowBytes = new long[partitionCount];
        _stored = Enumerable.Range(0, partitionCount).Select(_ => new List<EventData>()).ToArray();
    }

    public string HubName { get; }

    public int ThroughputUnits { get; }

    /// <summary>Modelled service time of one send (the fake waits this long on the injected clock before answering).</summary>
    public TimeSpan SendLatency { get; set; } = TimeSpan.Zero;

    public int ServerBusyAnswers => Volatile.Read(ref _serverBusy);

    private int _serverBusy;

    /// <summary>The most events any one partition accepted within one second (sliding window), over the fake's life.</summary>
    public int PeakPartitionEventsPerSecond { get; private set; }

    public long PeakPartitionBytesPerSecond { get; private set; }

    /// <summary>The most events the whole namespace accepted within one second.</summary>
    public int PeakNamespaceEventsPerSecond { get; private set; }

    public long PeakNamespaceBytesPerSecond { get; private set; }

    public IReadOnlyList<string> PartitionIds => _partitionIds;

    public override Task<string[]> GetPartitionIdsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult((string[])_partitionIds.Clone());

    public override Task<EventHubProperties> GetEventHubPropertiesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(EventHubsModelFactory.EventHubProperties(HubName, DateTimeOffset.UnixEpoch, (string[])_partitionIds.Clone()));

    public override Task<PartitionProperties> GetPartitionPropertiesAsync(string partitionId, CancellationToken cancellationToken = default)
    {
        var last = LastEnqueued(partitionId);
        lock (_gate)
        {
            var stored = _stored[Index(partitionId)];
            return Task.FromResult(EventHubsModelFactory.PartitionProperties(HubName, partitionId, stored.Count == 0, 0, last.SequenceNumber ?? -1, (last.SequenceNumber ?? -1).ToString(CultureInfo.InvariantCulture), last.EnqueuedTime ?? default));
        }
    }

    /// <summary>What the service reports as the partition's last enqueued event (the trigger's TrackLastEnqueuedEventProperties).</summary>
    public LastEnqueuedEventProperties LastEnqueued(string partitionId)
    {
        lock (_gate)
        {
            var stored = _stored[Index(partitionId)];
            if (stored.Count == 0)
            {
                return EventHubsModelFactory.LastEnqueuedEventProperties(null, (string?)null, null, _time.GetUtcNow());
            }
            var last = stored[^1];
            return EventHubsModelFactory.LastEnqueuedEventProperties(last.SequenceNumber, last.OffsetString, last.EnqueuedTime, _time.GetUtcNow());
        }
    }

    /// <summary>Events of one partition from a sequence number on, as a consumer receives them.</summary>
    public IReadOnlyList<EventData> Read(string partitionId, long fromSequenceNumber, int maxEvents)
    {
        lock (_gate)
        {
            var stored = _stored[Index(partitionId)];
            int from = (int)Math.Clamp(fromSequenceNumber, 0, stored.Count);
            return stored.Skip(from).Take(maxEvents).ToList();
        }
    }

    public int Count(string partitionId)
    {
        lock (_gate)
        {
            return _stored[Index(partitionId)].Count;
        }
    }

    public override ValueTask<EventDataBatch> CreateBatchAsync(CancellationToken cancellationToken = default) =>
        CreateBatchAsync(new CreateBatchOptions(), cancellationToken);

    public override ValueTask<EventDataBatch> CreateBatchAsync(CreateBatchOptions options, CancellationToken cancellationToken = default)
    {
        options ??= new CreateBatchOptions();
        if (options.PartitionId is { } id)
        {
            Index(id);
        }
        long limit = Math.Min(options.MaximumSizeInBytes ?? MaxPublicationBytes, MaxPublicationBytes);
        var store = new List<EventData>();
        long size = 0;
        var batch = EventHubsModelFactory.EventDataBatch(limit, store, options, e =>
        {
            long next = size + SizeOf(e);
            if (next > limit)
            {
                return false;
            }
            size = next;
            return true;
        });
        _batches[batch] = (store, options);
        return ValueTask.FromResult(batch);
    }

    public override async Task SendAsync(EventDataBatch eventBatch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventBatch);
        if (!_batches.TryGetValue(eventBatch, out var entry))
        {
            throw new InvalidOperationException("The batch was not created by this client.");
        }
        if (SendLatency > TimeSpan.Zero)
        {
            await Task.Delay(SendLatency, _time, cancellationToken);
        }
        int partition = entry.Options.PartitionId is { } id ? Index(id)
            : entry.Options.PartitionKey is { } key ? (int)((uint)StableHash(key) % (uint)_partitionIds.Length)
            : Interlocked.Increment(ref _roundRobin) % _partitionIds.Length;
        Accept(partition, entry.Events);
        _batches.TryRemove(eventBatch, out _);
    }

    public override Task SendAsync(IEnumerable<EventData> eventBatch, SendEventOptions options, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The click log sends EventDataBatch only.");

    private void Accept(int partition, List<EventData> events)
    {
        long bytes = events.Sum(SizeOf);
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            while (_window.TryPeek(out var oldest) && _time.GetElapsedTime(oldest.At, now) >= Window)
            {
                _window.Dequeue();
                _windowEvents[oldest.Partition] -= oldest.Events;
                _windowBytes[oldest.Partition] -= oldest.Bytes;
            }
            int namespaceEvents = _windowEvents.Sum();
            long namespaceBytes = _windowBytes.Sum();
            if (_windowEvents[partition] + events.Count > EventsPerSecondPerUnit
                || _windowBytes[partition] + bytes > BytesPerSecondPerUnit
                || namespaceEvents + events.Count > (long)EventsPerSecondPerUnit * ThroughputUnits
                || namespaceBytes + bytes > BytesPerSecondPerUnit * ThroughputUnits)
            {
                Interlocked.Increment(ref _serverBusy);
                throw new EventHubsException(true, HubName, $"The request was terminated because the entity is being throttled (partition {partition}). Error code: 50002.", EventHubsException.FailureReason.ServiceBusy);
            }
            _window.Enqueue((now, partition, events.Count, bytes));
            _windowEvents[partition] += events.Count;
            _windowBytes[partition] += bytes;
            PeakPartitionEventsPerSecond = Math.Max(PeakPartitionEventsPerSecond, _windowEvents[partition]);
            PeakPartitionBytesPerSecond = Math.Max(PeakPartitionBytesPerSecond, _windowBytes[partition]);
            PeakNamespaceEventsPerSecond = Math.Max(PeakNamespaceEventsPerSecond, namespaceEvents + events.Count);
            PeakNamespaceBytesPerSecond = Math.Max(PeakNamespaceBytesPerSecond, namespaceBytes + bytes);

            var stored = _stored[partition];
            var enqueued = _time.GetUtcNow();
            foreach (var e in events)
            {
                long sequence = stored.Count;
                stored.Add(EventHubsModelFactory.EventData(e.EventBody, new Dictionary<string, object>(e.Properties), new Dictionary<string, object>(), null, sequence, sequence.ToString(CultureInfo.InvariantCulture), enqueued));
            }
        }
    }

    /// <summary>An event's size on the wire, approximately: body, application properties and AMQP framing.</summary>
    public static long SizeOf(EventData e)
    {
        ArgumentNullException.ThrowIfNull(e);
        long size = e.EventBody.ToMemory().Length + 32;
        foreach (var (key, _) in e.Properties)
        {
            size += key.Length + 16;
        }
        return size;
    }

    private int Index(string partitionId) =>
        int.TryParse(partitionId, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < _partitionIds.Length
            ? index
            : throw new EventHubsException(false, HubName, $"Partition '{partitionId}' does not exist.", EventHubsException.FailureReason.ResourceNotFound);

    private static int StableHash(string key)
    {
        unchecked
        {
            int hash = (int)2166136261;
            foreach (char c in key)
            {
                hash = (hash ^ c) * 16777619;
            }
            return hash;
        }
    }
}
