using ClickFunctions.Capture;

namespace ClickFunctions.Embedded.Log;

/// <summary>Opening a partition after a crash: where its log ends, and the torn tail cut off there.</summary>
public sealed partial class LogPartition
{
    /// <summary>
    /// Finds where the log ends: the last segment's last whole block (framing within the file, sync marker right).
    /// Anything after it is an incomplete write that was never acknowledged; earlier segments are never cut.
    /// </summary>
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
            // Only framing decides where the log ends: a whole block (right size, right sync marker) was fsync'd
            // before any of its clicks got a 302, whatever its records hold. Records the consumer cannot decode
            // (a newer wire-format version, say) are its to dead-letter, not recovery's to cut.
            long next = first;
            long end = reader.Position;
            long length = stream.Length;
            while (reader.TrySkipBlock(length, out long count) == BlockStatus.Read)
            {
                next += count;
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
}
