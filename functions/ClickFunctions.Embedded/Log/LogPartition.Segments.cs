using ClickFunctions.Capture;

namespace ClickFunctions.Embedded.Log;

/// <summary>Creating a segment file: its header fsync'd, and the directory entry with it, before any click goes in.</summary>
public sealed partial class LogPartition
{
    private (FileStream, CaptureBlockWriter, long) CreateSegment(long firstSequence)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var writer = new CaptureBlockWriter();
        string path = LogSegments.PathOf(Directory, firstSequence);
        // Truncate rather than CreateNew: a file by this name can only be what an earlier failed attempt left (a
        // header, or part of one); no click is ever written to a segment before its creation succeeded.
        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        try
        {
            var header = writer.Header();
            stream.Write(header);
            stream.Flush(flushToDisk: true);
            LogSegments.SyncDirectory(Directory);
            return (stream, writer, header.Length);
        }
        catch
        {
            stream.Dispose();
            TryDelete(path);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next attempt (which truncates it) or for recovery (which removes a header-less segment).
        }
    }
}
