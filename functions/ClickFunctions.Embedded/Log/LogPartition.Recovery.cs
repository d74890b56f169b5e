using ClickFunctions.Capture;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Embedded.Log;

/// <summary>Opening a partition after a crash: where its log ends, and the torn tail cut off there.</summary>
public sealed partial class LogPartition
{
    /// <summary>Finds where the log ends: the last segment's last whole, valid block. Anything after it was never acknowledged.</summary>
    private (FileStream, CaptureBlockWriter, long First, long Length, long Next) Recover()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var segments = LogSegments.List(Directory);
        while (segments.Count > 0)
        {
            long first = segments[^1];
            string path = LogSegments.PathOf(Directory, first);
            var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
            var reader = CaptureFileReader.Open(new BufferedStream(stream, 1 << 16), leaveOpen: true);
            if (reader is null)
            {
                // Created but its header never reached the disk: it holds nothing that was acknowledged.
                stream.Dispose();
                File.Delete(path);
                LogSegments.SyncDirectory(Directory);
                Log.EmptySegmentRemoved(_logger, Id, path);
                segments.RemoveAt(segments.Count - 1);
                continue;
            }
            long next = first;
            long end = reader.Position;
            var records = new List<CaptureRecord>();
            long length = stream.Length;
            while (true)
            {
                records.Clear();
                var status = reader.TryReadBlock(length, records);
                if (status == BlockStatus.Read && !IsContiguousClickBlock(records, next))
                {
                    status = BlockStatus.Torn;
                }
                if (status != BlockStatus.Read)
                {
                    break;
                }
                next += records.Count;
                end = reader.Position;
            }
            if (end < length)
            {
                stream.SetLength(end);
                stream.Flush(flushToDisk: true);
                Log.TornTailCut(_logger, Id, path, length - end, end);
            }
            stream.Position = end;
            var writer = new CaptureBlockWriter(reader.Sync.ToArray());
            reader.Dispose();
            return (stream, writer, first, end, next);
        }
        var (created, newWriter, headerLength) = CreateSegment(0);
        return (created, newWriter, 0, headerLength, 0);
    }

    private static bool IsContiguousClickBlock(List<CaptureRecord> records, long expectedFirst)
    {
        long expected = expectedFirst;
        foreach (var record in records)
        {
            if (record.SequenceNumber != expected++ || record.Body is null)
            {
                return false;
            }
            try
            {
                _ = ClickWireFormat.Decode(record.Body);
            }
            catch (FormatException)
            {
                return false;
            }
        }
        return true;
    }
}
