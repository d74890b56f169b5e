using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Embedded.Log;

/// <summary>
/// The embedded click log: clicks partitioned by ad id (so duplicates of one ad meet in one partition), each
/// partition an fsync'd, append-only series of Avro files with the Event Hubs Capture schema.
/// One commit thread serves every partition (group commit): it takes all the clicks queued since its last round,
/// writes a block to each partition they belong to, fsyncs each of those files, and only then completes the callers.
/// One thread rather than one per partition: on a small machine the wake-ups cost more than the fsyncs.
/// </summary>
public sealed class LocalClickLog : IClickLog, IDisposable
{
    private readonly LogPartition[] _partitions;
    private readonly TimeProvider _time;
    private readonly object _gate = new(); // Monitor.Wait/Pulse: the commit thread sleeps until a click arrives.
    private readonly SemaphoreSlim _slots;
    private readonly List<PendingAppend>[] _byPartition;
    private readonly int[] _taken;
    private readonly Thread _thread;
    private readonly SyncHelper[] _helpers;
    private readonly RoundCountdown _helpersDone = new();
    private List<PendingAppend> _queue = [];
    private List<PendingAppend> _spare = [];
    private bool _stopping;
    private int _disposed;

    public LocalClickLog(LocalLogOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger<LocalClickLog>();
        Directory = options.Directory;
        _time = time;
        _partitions = new LogPartition[options.Partitions];
        _byPartition = new List<PendingAppend>[options.Partitions];
        _taken = new int[options.Partitions];
        for (int i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = LogPartition.Open(options.Directory, i, options, time, logger);
            _byPartition[i] = [];
        }
        _slots = new SemaphoreSlim(options.QueueCapacity, options.QueueCapacity);
        _helpers = options.ParallelSync ? [.. Enumerable.Range(0, options.Partitions - 1).Select(i => new SyncHelper(this, i))] : [];
        _thread = new Thread(CommitLoop) { IsBackground = true, Name = "click-log-commit" };
        _thread.Start();
    }

    public string Directory { get; }

    public IReadOnlyList<LogPartition> Partitions => _partitions;

    /// <summary>Completes once the click is written and fsync'd; throws <see cref="ClickLogUnavailableException"/> if it could not be.</summary>
    public ValueTask AppendAsync(ClickEvent click, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(click);
        // No shortcut for a partition that failed its last write: the commit thread retries the repair with every
        // batch, so the first click after the disk takes writes again is the one that gets through.
        int partition = PartitionOf(click.AdId, _partitions.Length);
        var body = ClickWireFormat.Encode(click);
        var wait = _slots.WaitAsync(cancellationToken);
        return wait.IsCompletedSuccessfully ? new ValueTask(Enqueue(partition, body)) : EnqueueAfterAsync(wait, partition, body);
    }

    /// <summary>Appends a record that need not be a click (tests of malformed records); same durability as <see cref="AppendAsync"/>.</summary>
    internal async Task AppendRawAsync(int partition, byte[] body, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Enqueue(partition, body).ConfigureAwait(false);
    }

    private async ValueTask EnqueueAfterAsync(Task wait, int partition, byte[] body)
    {
        await wait.ConfigureAwait(false);
        await Enqueue(partition, body).ConfigureAwait(false);
    }

    private Task Enqueue(int partition, byte[] body)
    {
        var pending = new PendingAppend(partition, body, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            if (_stopping)
            {
                _slots.Release();
                return Task.FromException(new ObjectDisposedException(nameof(LocalClickLog)));
            }
            _queue.Add(pending);
            if (_queue.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }
        return pending.Done.Task;
    }

    private void CommitLoop()
    {
        // Clicks a partition could not take in its last round because its segment filled up: they go first.
        var carried = new List<PendingAppend>();
        while (true)
        {
            List<PendingAppend> batch;
            lock (_gate)
            {
                while (_queue.Count == 0 && carried.Count == 0 && !_stopping)
                {
                    Monitor.Wait(_gate);
                }
                if (_queue.Count == 0 && carried.Count == 0)
                {
                    return;
                }
                batch = _queue;
                _queue = _spare;
            }
            foreach (var pending in carried)
            {
                _byPartition[pending.Partition].Add(pending);
            }
            int finished = batch.Count + carried.Count;
            carried.Clear();
            foreach (var pending in batch)
            {
                _byPartition[pending.Partition].Add(pending);
            }
            // Write every partition's blocks first, then fsync each file: the writes overlap the disk's work.
            var now = _time.GetUtcNow();
            for (int p = 0; p < _partitions.Length; p++)
            {
                var clicks = _byPartition[p];
                _taken[p] = clicks.Count == 0 ? 0 : _partitions[p].Write(clicks, now);
                if (_taken[p] > 0 && _taken[p] < clicks.Count)
                {
                    carried.AddRange(clicks.Skip(_taken[p]));
                    clicks.RemoveRange(_taken[p], clicks.Count - _taken[p]);
                }
            }
            SyncWritten();
            for (int p = 0; p < _partitions.Length; p++)
            {
                _byPartition[p].Clear();
            }
            _slots.Release(finished - carried.Count);
            batch.Clear();
            lock (_gate)
            {
                _spare = batch;
            }
        }
    }

    /// <summary>
    /// fsyncs every partition written this round and completes its callers. With <see cref="LocalLogOptions.ParallelSync"/>
    /// the fsyncs run at the same time on helper threads (the commit thread takes the first): the file system commits
    /// its journal once for all of them instead of once per file in turn (decision 090).
    /// </summary>
    private void SyncWritten()
    {
        int first = -1;
        int handed = 0;
        for (int p = 0; p < _partitions.Length; p++)
        {
            if (_taken[p] == 0)
            {
                continue;
            }
            if (first < 0)
            {
                first = p;
                continue;
            }
            if (handed == 0)
            {
                if (_helpers.Length == 0)
                {
                    _partitions[p].Sync(_byPartition[p]);
                    continue;
                }
                _helpersDone.Reset(CountWritten() - 1);
            }
            _helpers[handed++].Start(p);
        }
        if (first >= 0)
        {
            _partitions[first].Sync(_byPartition[first]);
        }
        if (handed > 0)
        {
            _helpersDone.Wait();
        }
    }

    private int CountWritten()
    {
        int n = 0;
        foreach (int taken in _taken)
        {
            n += taken > 0 ? 1 : 0;
        }
        return n;
    }

    /// <summary>A thread that fsyncs one partition per round when the commit thread hands it one.</summary>
    private sealed class SyncHelper : IDisposable
    {
        private readonly LocalClickLog _log;
        private readonly RoundCountdown _go = new();
        private int _partition;
        private volatile bool _stopping;

        public SyncHelper(LocalClickLog log, int index)
        {
            _log = log;
            new Thread(Run) { IsBackground = true, Name = "click-log-sync-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Start();
        }

        public void Start(int partition)
        {
            _partition = partition;
            _go.Reset(1);
        }

        /// <summary>Stops the thread, which disposes what it waits on; the commit thread must have stopped.</summary>
        public void Dispose()
        {
            if (_stopping)
            {
                return;
            }
            _stopping = true;
            _go.Reset(1);
        }

        private void Run()
        {
            while (true)
            {
                _go.WaitForStart();
                if (_stopping)
                {
                    return;
                }
                try
                {
                    _log._partitions[_partition].Sync(_log._byPartition[_partition]);
                }
                finally
                {
                    _log._helpersDone.Signal();
                }
            }
        }
    }

    /// <summary>
    /// A count the commit thread and its sync helpers hand each other once per round, waited on without spinning:
    /// <see cref="CountdownEvent"/> and <see cref="SemaphoreSlim"/> spin (yielding the core) before they block, and
    /// on a 2-core machine that spinning took a quarter of the host's CPU under load (decision 100). A waiter blocks
    /// in <see cref="Monitor.Wait(object)"/> at once; the round's fsync is far longer than a wake-up.
    /// </summary>
    private sealed class RoundCountdown
    {
        private readonly object _gate = new();
        private int _remaining;

        /// <summary>Sets the count (the helpers still to finish, or 1 to start a helper) and wakes a waiter.</summary>
        public void Reset(int count)
        {
            lock (_gate)
            {
                _remaining = count;
                Monitor.PulseAll(_gate);
            }
        }

        /// <summary>One helper finished its partition.</summary>
        public void Signal()
        {
            lock (_gate)
            {
                if (--_remaining == 0)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }

        /// <summary>Blocks until the count is zero (every helper of the round finished).</summary>
        public void Wait()
        {
            lock (_gate)
            {
                while (_remaining > 0)
                {
                    Monitor.Wait(_gate);
                }
            }
        }

        /// <summary>Blocks until the count is set above zero, then takes it (a helper's start).</summary>
        public void WaitForStart()
        {
            lock (_gate)
            {
                while (_remaining == 0)
                {
                    Monitor.Wait(_gate);
                }
                _remaining = 0;
            }
        }
    }

    /// <summary>FNV-1a over the ad id's UTF-16 code units, modulo the partition count: stable across processes and versions.</summary>
    public static int PartitionOf(string adId, int partitions)
    {
        ArgumentNullException.ThrowIfNull(adId);
        uint hash = 2166136261;
        foreach (char c in adId)
        {
            hash = (hash ^ c) * 16777619;
        }
        return (int)(hash % (uint)partitions);
    }

    /// <summary>Partition numbers present in a log directory (for offline readers: reconcile, tests).</summary>
    public static IReadOnlyList<int> PartitionsIn(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return [];
        }
        return [.. System.IO.Directory.EnumerateDirectories(directory)
            .Select(Path.GetFileName)
            .Select(name => int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p) ? p : -1)
            .Where(p => p >= 0)
            .Order()];
    }

    /// <summary>A reader over a log directory with no writer running (reconcile, tests): reads every whole block, stops at a torn tail.</summary>
    public static LogPartitionReader OpenOfflineReader(string directory, int partition, long fromSequence) =>
        new(LogSegments.PartitionDirectory(directory, partition), partition.ToString(System.Globalization.CultureInfo.InvariantCulture), fromSequence);

    /// <summary>Commits what is queued, stops the commit thread, closes the partitions.</summary>
    public void Dispose()
    {
        // Idempotent: the host's container may dispose the log twice (registered as itself and as IClickLog).
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
        foreach (var helper in _helpers)
        {
            helper.Dispose();
        }
        foreach (var partition in _partitions)
        {
            partition.Dispose();
        }
        _slots.Dispose();
    }
}
