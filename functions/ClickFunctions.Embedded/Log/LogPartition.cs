using System.Buffers;
using System.Globalization;
using ClickFunctions.Capture;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Embedded.Log;

/// <summary>What readers may read: everything before <see cref="NextSequence"/>, i.e. up to <see cref="SegmentLength"/> bytes of the active segment.</summary>
public sealed record CommittedState(long SegmentFirstSequence, long SegmentLength, long NextSequence);

/// <summary>A click waiting for the log's commit thread: its partition, its encoded body, and the caller to complete.</summary>
internal readonly record struct PendingAppend(int Partition, byte[] Body, TaskCompletionSource Done);

/// <summary>
/// One partition of the local log: an append-only series of Avro segment files. The log's commit thread
/// (<see cref="LocalClickLog"/>) hands it every click queued for it since the last commit: <see cref="Write"/> puts
/// them in one or more Avro blocks, <see cref="Sync"/> fsyncs and only then publishes them to readers and completes
/// the callers (group commit). On open, a torn tail left by a crash is found and cut off.
/// </summary>
public sealed partial class LogPartition : IDisposable
{
    private readonly LocalLogOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ArrayBufferWriter<byte> _block = new(256 * 1024);
    private Exception? _failure; // what left the file needing repair before the next write; null when it is sound
    private bool _rollPending;
    private long _writtenLength;
    private long _writtenNext;
    private FileStream _segment;
    private CaptureBlockWriter _writer;
    private long _segmentFirst;
    private long _segmentLength;
    private long _nextSequence;
    private volatile CommittedState _committed;
    private TaskCompletionSource _commitSignal = NewSignal();

    private LogPartition(int id, string directory, LocalLogOptions options, TimeProvider time, ILogger logger)
    {
        Id = id;
        Directory = directory;
        _options = options;
        _time = time;
        _logger = logger;
        (_segment, _writer, _segmentFirst, _segmentLength, _nextSequence) = Recover();
        _committed = new CommittedState(_segmentFirst, _segmentLength, _nextSequence);
    }

    public int Id { get; }

    public string Name => Id.ToString(CultureInfo.InvariantCulture);

    public string Directory { get; }

    public CommittedState Committed => _committed;

    public static LogPartition Open(string root, int id, LocalLogOptions options, TimeProvider time, ILogger logger) =>
        new(id, LogSegments.PartitionDirectory(root, id), options, time, logger);

    /// <summary>
    /// Set while the file needs a repair before it can take another write: a failed write could not be rolled back,
    /// or a segment roll failed (a full disk, say). Every <see cref="Write"/> first retries the repair, so the
    /// partition takes clicks again as soon as the disk does, without a restart.
    /// </summary>
    internal Exception? Failure => _failure;

    /// <summary>Completes when something at or after <paramref name="nextSequence"/> has been committed.</summary>
    public async Task WaitForCommitAsync(long nextSequence, CancellationToken cancellationToken)
    {
        while (true)
        {
            var signal = Volatile.Read(ref _commitSignal);
            if (_committed.NextSequence > nextSequence)
            {
                return;
            }
            await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes clicks from the start of <paramref name="batch"/> as Avro blocks after the committed end, without
    /// fsync: nothing is visible to readers or acknowledged yet. Stops at the click that fills the segment, so a
    /// segment passes <see cref="LocalLogOptions.SegmentBytes"/> by at most one click; returns how many clicks it
    /// took (the caller queues the rest for the next round, in the next segment). On failure the file is rolled
    /// back, every click of the batch is failed, and 0 is returned.
    /// </summary>
    internal int Write(List<PendingAppend> batch, DateTimeOffset now)
    {
        if (!TryRepair(out var failed))
        {
            FailAll(batch, failed);
            return 0;
        }
        try
        {
            _block.ResetWrittenCount();
            long sequence = _nextSequence;
            int taken = 0;
            // At least one click, even into a segment that recovery found full: the sync after it rolls over. A block
            // ends at MaxBlockEvents or where the segment fills, so a segment passes its size by at most one click.
            bool full = false;
            while (taken < batch.Count && !full)
            {
                long blockOffset = _segmentLength + _block.WrittenCount;
                _writer.BeginBlock();
                int end = Math.Min(batch.Count, taken + _options.MaxBlockEvents);
                while (taken < end && !full)
                {
                    _writer.Add(sequence++, blockOffset, now, batch[taken++].Body);
                    full = _segmentLength + _block.WrittenCount + _writer.BlockBytes >= _options.SegmentBytes;
                }
                _writer.EndBlock(_block);
            }
            _segment.Write(_block.WrittenSpan);
            _writtenLength = _segmentLength + _block.WrittenCount;
            _writtenNext = sequence;
            return taken;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(batch, e);
            return 0;
        }
    }

    /// <summary>
    /// Makes what <see cref="Write"/> wrote durable (fsync), then publishes it to readers and completes the callers:
    /// their 302s may go out now. On failure the file is rolled back and every click of the batch is failed.
    /// </summary>
    internal void Sync(List<PendingAppend> batch)
    {
        try
        {
            _segment.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(batch, e);
            return;
        }
        _segmentLength = _writtenLength;
        _nextSequence = _writtenNext;
        Publish();
        foreach (var pending in batch)
        {
            pending.Done.TrySetResult();
        }
        if (_segmentLength >= _options.SegmentBytes)
        {
            _rollPending = true;
            try
            {
                Roll();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The clicks above are durable in the full segment; the next write retries the roll first.
                Log.RollFailed(_logger, e, Id, _nextSequence);
                _failure = e;
            }
        }
    }

    /// <summary>
    /// Brings the file back to a state a write can follow: the roll that failed, or the rollback that failed (cut
    /// the file back to its committed length). Nothing committed is touched: a failed roll leaves at most a new
    /// segment with no click in it, a failed rollback leaves bytes after the committed length that no one was told of.
    /// </summary>
    private bool TryRepair(out Exception failure)
    {
        failure = null!;
        if (_failure is null)
        {
            return true;
        }
        try
        {
            if (_rollPending)
            {
                Roll();
            }
            else
            {
                Truncate(_segmentLength);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failure = e;
            _failure = e;
            return false;
        }
        Log.Repaired(_logger, Id, _failure.Message);
        _failure = null;
        return true;
    }

    private void Fail(List<PendingAppend> batch, Exception e)
    {
        Log.AppendFailed(_logger, e, Id, batch.Count);
        Rollback(_segmentLength, e);
        FailAll(batch, e);
    }

    private void Rollback(long length, Exception cause)
    {
        try
        {
            Truncate(length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The file may now end in a partial block (recovery would cut it): the next write retries the cut first.
            _failure = new IOException($"could not roll back a failed write ({e.Message})", cause);
        }
    }

    private void Truncate(long length)
    {
        _segment.SetLength(length);
        _segment.Position = length;
        _segment.Flush(flushToDisk: true);
    }

    private static void FailAll(List<PendingAppend> batch, Exception e)
    {
        foreach (var pending in batch)
        {
            pending.Done.TrySetException(new ClickLogUnavailableException("The click could not be made durable.", e));
        }
    }

    private void Publish()
    {
        _committed = new CommittedState(_segmentFirst, _segmentLength, _nextSequence);
        Interlocked.Exchange(ref _commitSignal, NewSignal()).TrySetResult();
    }

    private void Roll()
    {
        (var segment, _writer, _segmentLength) = CreateSegment(_nextSequence);
        _segment.Dispose();
        _segment = segment;
        _segmentFirst = _nextSequence;
        _rollPending = false;
        Publish();
        Log.SegmentRolled(_logger, Id, _segmentFirst);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Closes the segment; the log's commit thread must have stopped.</summary>
    public void Dispose() => _segment.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Click log partition {Partition}: cut a torn tail of {Bytes} bytes from {Path} at byte {Offset} (a crash interrupted a write that was never acknowledged).")]
        public static partial void TornTailCut(ILogger logger, int partition, string path, long bytes, long offset);

        [LoggerMessage(2, LogLevel.Warning, "Click log partition {Partition}: removed {Path}, a segment whose header never reached the disk.")]
        public static partial void EmptySegmentRemoved(ILogger logger, int partition, string path);

        [LoggerMessage(3, LogLevel.Error, "Click log partition {Partition}: a write of {Count} clicks failed; they get no redirect.")]
        public static partial void AppendFailed(ILogger logger, Exception exception, int partition, int count);

        [LoggerMessage(4, LogLevel.Information, "Click log partition {Partition}: new segment starting at sequence {Sequence}.")]
        public static partial void SegmentRolled(ILogger logger, int partition, long sequence);

        [LoggerMessage(5, LogLevel.Error, "Click log partition {Partition}: could not start a new segment at sequence {Sequence}; the next click retries it.")]
        public static partial void RollFailed(ILogger logger, Exception exception, int partition, long sequence);

        [LoggerMessage(6, LogLevel.Warning, "Click log partition {Partition}: repaired after a failed write or roll ({Cause}); taking clicks again.")]
        public static partial void Repaired(ILogger logger, int partition, string cause);
    }
}
