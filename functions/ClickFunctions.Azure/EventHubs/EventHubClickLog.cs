using System.Threading.Channels;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.EventHubs;

/// <summary>
/// The click log on Event Hubs with group commit: concurrent appends are queued (bounded: appends wait when it is
/// full), a sender takes everything queued, builds one <see cref="EventDataBatch"/> per partition (the partition is
/// the click id modulo the partition count, <see cref="ClickPartitions"/>) and sends each once; every caller
/// completes only when the send that carried its click succeeded, and gets the exception when it failed (so the host
/// answers 503 and no redirect). Nothing is acknowledged before Event Hubs acknowledged it. A transient failure
/// (ServerBusy, timeout) is retried with exponential backoff a bounded number of times, each retry counted.
/// </summary>
public sealed partial class EventHubClickLog : IClickLog, IAsyncDisposable
{
    public const string WireFormatProperty = "cf-format";

    private readonly EventHubProducerClient _producer;
    private readonly EventHubClickLogOptions _options;
    private readonly Lock _partitionsGate = new();
    private Task<string[]>? _partitionIds;
    private readonly AzureClickMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<EventHubClickLog> _logger;
    private readonly Channel<Pending> _queue;
    private readonly SemaphoreSlim _sendSlots;
    private readonly Task _pump;

    public EventHubClickLog(EventHubProducerClient producer, IOptions<EventHubClickLogOptions> options, AzureClickMetrics metrics, TimeProvider time, ILogger<EventHubClickLog> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _producer = producer;
        _options = options.Value;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _sendSlots = new SemaphoreSlim(_options.MaxConcurrentSends, _options.MaxConcurrentSends);
        _pump = Task.Run(PumpAsync);
    }

    public async ValueTask AppendAsync(ClickEvent click, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(click);
        var pending = new Pending(click, ClickWireFormat.Encode(click), _time.GetTimestamp());
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        // The click is in the queue: it will be sent whatever this caller does now, but the caller only learns
        // "durable" from the send's outcome.
        await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task PumpAsync()
    {
        var reader = _queue.Reader;
        var inFlight = new List<Task>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Wait for a free send slot first: while all slots are busy, clicks keep gathering for a bigger commit.
            await _sendSlots.WaitAsync().ConfigureAwait(false);
            var commit = new List<Pending>();
            while (commit.Count < _options.MaxClicksPerCommit && reader.TryRead(out var next))
            {
                commit.Add(next);
            }
            if (commit.Count == 0)
            {
                _sendSlots.Release();
                continue;
            }
            inFlight.RemoveAll(t => t.IsCompleted);
            inFlight.Add(CommitAsync(commit));
        }
        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    private async Task CommitAsync(List<Pending> commit)
    {
        try
        {
            string[] partitions;
            try
            {
                partitions = await PartitionIdsAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Fail(commit, "(partition ids)", ex);
                return;
            }
            var sends = new List<Task>();
            foreach (var group in commit.GroupBy(p => ClickPartitions.IndexOf(p.Click.ClickId, partitions.Length)))
            {
                sends.Add(SendGroupAsync(partitions[group.Key], group.ToList()));
            }
            await Task.WhenAll(sends).ConfigureAwait(false);
        }
        finally
        {
            _sendSlots.Release();
        }
    }

    /// <summary>The hub's partition ids, asked once (they are fixed for a Standard hub's life); asked again after a failure.</summary>
    private Task<string[]> PartitionIdsAsync()
    {
        lock (_partitionsGate)
        {
            if (_partitionIds is null || _partitionIds.IsFaulted || _partitionIds.IsCanceled)
            {
                _partitionIds = _producer.GetPartitionIdsAsync();
            }
            return _partitionIds;
        }
    }

    private async Task SendGroupAsync(string partitionId, List<Pending> clicks)
    {
        int index = 0;
        while (index < clicks.Count)
        {
            var carried = new List<Pending>();
            int attempt = 0;
            while (true)
            {
                try
                {
                    using var batch = await _producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = partitionId }).ConfigureAwait(false);
                    int next = index;
                    carried.Clear();
                    while (next < clicks.Count)
                    {
                        var pending = clicks[next];
                        var data = new EventData(pending.Body);
                        data.Properties[WireFormatProperty] = (int)pending.Body[0];
                        if (!batch.TryAdd(data))
                        {
                            if (carried.Count == 0)
                            {
                                throw new InvalidOperationException($"A click event of {pending.Body.Length} bytes does not fit in an empty Event Hubs batch.");
                            }
                            break;
                        }
                        carried.Add(pending);
                        next++;
                    }
                    await _producer.SendAsync(batch).ConfigureAwait(false);
                    index = next;
                    break;
                }
                catch (EventHubsException ex) when (ex.IsTransient && attempt < _options.SendRetries)
                {
                    attempt++;
                    _metrics.PublishRetried(ex.Reason == EventHubsException.FailureReason.ServiceBusy ? "server_busy" : "transient");
                    Log.SendRetried(_logger, carried.Count, partitionId, attempt, ex.Reason);
                    await Task.Delay(RetryDelay(attempt), _time).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // Everyone whose click was in this send, or not sent yet, learns it failed.
                    Fail(clicks.Skip(index).ToList(), partitionId, ex);
                    return;
                }
            }
            long now = _time.GetTimestamp();
            _metrics.Published(carried.Count, _time.GetElapsedTime(carried[0].EnqueuedAt, now));
            foreach (var pending in carried)
            {
                pending.Done.TrySetResult();
            }
        }
    }

    /// <summary>Exponential backoff with full jitter in [delay/2, delay]: concurrent senders do not retry in lockstep.</summary>
    private TimeSpan RetryDelay(int attempt)
    {
        double ceiling = Math.Min(_options.SendRetryMaxDelay.TotalMilliseconds, _options.SendRetryDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private void Fail(List<Pending> failed, string partitionId, Exception ex)
    {
        _metrics.PublishFailed(failed.Count);
        Log.SendFailed(_logger, failed.Count, partitionId, ex);
        foreach (var pending in failed)
        {
            pending.Done.TrySetException(new ClickLogUnavailableException("Event Hubs did not acknowledge the click.", ex));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        _sendSlots.Dispose();
    }

    private sealed record Pending(ClickEvent Click, byte[] Body, long EnqueuedAt)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Event Hubs send of {Count} clicks to partition {PartitionId} failed; no redirect is sent for them")]
        public static partial void SendFailed(ILogger logger, int count, string partitionId, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "Event Hubs send of {Count} clicks to partition {PartitionId} failed transiently ({Reason}); retry {Attempt}")]
        public static partial void SendRetried(ILogger logger, int count, string partitionId, int attempt, EventHubsException.FailureReason reason);
    }
}
