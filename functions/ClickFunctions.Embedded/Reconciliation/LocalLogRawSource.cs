using System.Globalization;
using System.Runtime.CompilerServices;
using ClickFunctions.Capture;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Ports;

namespace ClickFunctions.Embedded.Reconciliation;

/// <summary>
/// The local log as reconciliation's raw source: each partition's segment files
/// (<c>{log}/{partition:D3}/{first sequence:D20}.avro</c>) read with the one Capture reader, like Capture blobs.
/// A segment is skipped when the next one starts before the requested range (enqueued times grow along a partition),
/// and reading stops at the first segment that starts after it. A segment's name is the sequence number it must
/// start at, so a missing segment shows up in the sequence audit. Reads whole blocks only: a torn last block of
/// the newest segment is where a crashed (or, with the host running, still appending) writer stopped; a torn
/// block anywhere else is unreadable data.
/// </summary>
public sealed class LocalLogRawSource(string logDirectory) : IRawEventSource
{
    /// <summary>At most this many events per <see cref="RawEventFile"/> (a 64 MB segment holds hundreds of thousands).</summary>
    public const int MaxEventsPerFile = 16_384;

    private long _eventsRead;
    private long _segmentsRead;

    public string LogDirectory => logDirectory;

    /// <summary>Events read so far by this source (all reads), for a command's progress line.</summary>
    public long EventsRead => Interlocked.Read(ref _eventsRead);

    /// <summary>Segment files opened so far by this source (all reads), for a command's progress line.</summary>
    public long SegmentsRead => Interlocked.Read(ref _segmentsRead);

    public async IAsyncEnumerable<RawEventFile> ReadAsync(DateTimeOffset enqueuedFrom, DateTimeOffset enqueuedTo, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (int partition in LocalClickLog.PartitionsIn(logDirectory))
        {
            string name = partition.ToString(CultureInfo.InvariantCulture);
            var segments = Segments(LogSegments.PartitionDirectory(logDirectory, partition));
            for (int i = 0; i < segments.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                bool last = i == segments.Count - 1;
                if (!last && FirstEnqueued(segments[i + 1].Path) is { } nextStart && nextStart < enqueuedFrom)
                {
                    continue;
                }
                if (FirstEnqueued(segments[i].Path) is { } start && start >= enqueuedTo)
                {
                    break;
                }
                Interlocked.Increment(ref _segmentsRead);
                foreach (var file in ReadSegment(name, segments[i].First, segments[i].Path, last))
                {
                    Interlocked.Add(ref _eventsRead, file.Events.Count);
                    yield return file;
                }
            }
        }
    }

    /// <summary>Segments of one partition directory, ascending by first sequence number (the log's own listing).</summary>
    public static List<(long First, string Path)> Segments(string partitionDirectory) =>
        [.. LogSegments.List(partitionDirectory).Select(first => (first, LogSegments.PathOf(partitionDirectory, first)))];

    private static FileStream OpenShared(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);

    private static DateTimeOffset? FirstEnqueued(string path)
    {
        using var stream = OpenShared(path);
        using var reader = CaptureFileReader.Open(stream, leaveOpen: true);
        if (reader is null)
        {
            return null;
        }
        var records = new List<CaptureRecord>();
        return reader.TryReadBlock(stream.Length, records) == BlockStatus.Read && records.Count > 0 ? records[0].EnqueuedTimeUtc : null;
    }

    private static IEnumerable<RawEventFile> ReadSegment(string partition, long first, string path, bool last)
    {
        using var stream = OpenShared(path);
        using var reader = CaptureFileReader.Open(stream, leaveOpen: true);
        if (reader is null)
        {
            yield break; // created but torn before its header was written: holds no events
        }
        long length = stream.Length;
        var records = new List<CaptureRecord>();
        var events = new List<RawEvent>();
        bool firstChunk = true;
        while (true)
        {
            records.Clear();
            long at = reader.Position;
            var status = reader.TryReadBlock(length, records);
            if (status == BlockStatus.Torn && !last)
            {
                throw new InvalidDataException($"Local log segment {path}: invalid block at byte {at} of a sealed segment.");
            }
            if (status != BlockStatus.Read)
            {
                break;
            }
            foreach (var record in records)
            {
                events.Add(new RawEvent(partition, record.SequenceNumber, record.EnqueuedTimeUtc, record.Body ?? []));
            }
            if (events.Count >= MaxEventsPerFile)
            {
                yield return new RawEventFile(partition, path, firstChunk ? first : null, events);
                events = [];
                firstChunk = false;
            }
        }
        if (events.Count > 0 || firstChunk)
        {
            yield return new RawEventFile(partition, path, firstChunk ? first : null, events);
        }
    }
}
