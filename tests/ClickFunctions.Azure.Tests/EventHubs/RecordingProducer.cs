using System.Collections.Concurrent;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;

namespace ClickFunctions.Azure.Tests.EventHubs;

/// <summary>
/// An <see cref="EventHubProducerClient"/> through the SDK's mocking seams: the protected constructor, the virtual
/// CreateBatchAsync/SendAsync, and batches from <see cref="EventHubsModelFactory.EventDataBatch"/>.
/// Sends can be held (to let concurrent appends gather) or made to fail.
/// </summary>
public sealed class RecordingProducer : EventHubProducerClient
{
    private readonly ConcurrentDictionary<EventDataBatch, (List<EventData> Events, string? PartitionKey)> _batches = new();

    public ConcurrentQueue<(string? PartitionKey, IReadOnlyList<EventData> Events)> Sent { get; } = new();

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
        _batches[batch] = (store, options?.PartitionKey);
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
        Sent.Enqueue((sent.PartitionKey, sent.Events.ToList()));
    }
}
