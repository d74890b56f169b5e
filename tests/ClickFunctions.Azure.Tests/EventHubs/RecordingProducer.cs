using System.Collections.Concurrent;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;

namespace ClickFunctions.Azure.Tests.EventHubs;

/// <summary>
/// An <see cref="EventHubProducerClient"/> through the SDK's mocking seams: the protected constructor, the virtual
/// CreateBatchAsync/SendAsync, and batches from <see cref="EventHubsModelFactory.EventDataBatch"/>.
/// Sends can be held (to let concurrent appends gather) or made to fail. It reports <see cref="PartitionCount"/>
/// partitions and records which partition each send went to.
/// </summary>
public sealed class RecordingProducer : EventHubProducerClient
{
    private readonly ConcurrentDictionary<EventDataBatch, (List<EventData> Events, string? PartitionId)> _batches = new();

    public ConcurrentQueue<(string? PartitionId, IReadOnlyList<EventData> Events)> Sent { get; } = new();

    public int PartitionCount { get; set; } = 4;

    public override Task<string[]> GetPartitionIdsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(Enumerable.Range(0, PartitionCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());

    /// <summary>When set, every send waits for it.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public Exception? Failure { get; set; }

    public int MaxEventsPerBatch { get; set; } = int.MaxValue;

    public int SendsStarted => Volatile.Read(ref _sendsStarted);

    private int _sendsStarted;

    public override ValueTask<EventDataBatch> CreateBatchAsync(CreateBatchOptions options, CancellationToken cancellationToken = default)
    {
        var store = new List<EventData>();
        var batch = EventHubsModelFactory.EventDataBatch(1_000_000, store, options, _ => store.Count < MaxEventsPerBatch);
        _batches[batch] = (store, options?.PartitionId);
        return new ValueTask<EventDataBatch>(batch);
    }

    public override async Task SendAsync(EventDataBatch eventBatch, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _sendsStarted);
        if (Gate is { } gate)
        {
            // Bounded: a test that fails before opening the gate ends (the send times out) instead of hanging in Dispose.
            await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        if (Failure is { } failure)
        {
            throw failure;
        }
        _batches.TryRemove(eventBatch, out var sent);
        Sent.Enqueue((sent.PartitionId, sent.Events.ToList()));
    }
}
