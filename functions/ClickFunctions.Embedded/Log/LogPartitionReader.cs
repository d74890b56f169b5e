using ClickFunctions.Capture;
using ClickFunctions.Ports;

namespace ClickFunctions.Embedded.Log;

/// <summary>
/// Reads one partition of the local log from a sequence number on, across segments. Live (given the partition's
/// committed state) it never reads past what was fsync'd; offline (no writer running) it reads every whole block
/// and treats a torn last block as the end, as recovery will.
/// </summary>
public sealed class LogPartitionReader : IDisposable
{
    private readonly string _directory;
    private readonly string _partitionName;
    private readonly Func<CommittedState>? _committed;
    private readonly List<CaptureRecord> _records = [];
    private FileStream? _file;
    private CaptureFileReader? _reader;
    private long _segmentFirst = -1;

    public LogPartitionReader(string partitionDirectory, string partitionName, long fromSequence, Func<CommittedState>? committed = null)
    {
        _directory = partitionDirectory;
        _partitionName = partitionName;
        _committed = committed;
        NextSequence = fromSequence;
    }

    public static LogPartitionReader Live(LogPartition partition, long fromSequence)
    {
        ArgumentNullException.ThrowIfNull(partition);
        return new(partition.Directory, partition.Name, fromSequence, () => partition.Committed);
    }

    /// <summary>The sequence number of the next event this reader returns.</summary>
    public long NextSequence { get; private set; }

    /// <summary>Appends up to about <paramref name="maxEvents"/> events (whole blocks) to <paramref name="into"/>; returns how many.</summary>
    public int Read(List<RawEvent> into, int maxEvents)
    {
        ArgumentNullException.ThrowIfNull(into);
        int added = 0;
        while (added < maxEvents)
        {
            var committed = _committed?.Invoke();
            if (committed is not null && NextSequence >= committed.NextSequence)
            {
                break;
            }
            if (_reader is null && !OpenSegment())
            {
                break;
            }
            bool active = committed is not null && committed.SegmentFirstSequence == _segmentFirst;
            long limit = active ? committed!.SegmentLength : _file!.Length;
            _records.Clear();
            var status = _reader!.TryReadBlock(limit, _records);
            if (status == BlockStatus.Read)
            {
                foreach (var record in _records)
                {
                    if (record.SequenceNumber < NextSequence)
                    {
                        continue;
                    }
                    if (record.SequenceNumber != NextSequence)
                    {
                        throw new InvalidDataException(
                            $"Click log partition {_partitionName}: expected sequence {NextSequence}, found {record.SequenceNumber}.");
                    }
                    into.Add(new RawEvent(_partitionName, record.SequenceNumber, record.EnqueuedTimeUtc, record.Body ?? []));
                    NextSequence++;
                    added++;
                }
                continue;
            }
            if (status == BlockStatus.Torn && committed is not null && active)
            {
                throw new InvalidDataException($"Click log partition {_partitionName}: invalid block at byte {_reader.Position} of a committed segment.");
            }
            // End of this segment's readable bytes: move on if a later segment exists, else wait for more.
            if (active || !File.Exists(LogSegments.PathOf(_directory, NextSequence)) || NextSequence == _segmentFirst)
            {
                break;
            }
            CloseSegment();
        }
        return added;
    }

    private bool OpenSegment()
    {
        var segments = LogSegments.List(_directory);
        int index = segments.FindLastIndex(first => first <= NextSequence);
        if (index < 0)
        {
            return false;
        }
        long first = segments[index];
        var file = new FileStream(LogSegments.PathOf(_directory, first), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        var reader = CaptureFileReader.Open(file, leaveOpen: true);
        if (reader is null)
        {
            file.Dispose();
            return false;
        }
        _file = file;
        _reader = reader;
        _segmentFirst = first;
        return true;
    }

    private void CloseSegment()
    {
        _reader?.Dispose();
        _file?.Dispose();
        _reader = null;
        _file = null;
        _segmentFirst = -1;
    }

    public void Dispose() => CloseSegment();
}
