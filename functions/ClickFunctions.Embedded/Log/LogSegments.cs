using System.Globalization;
using System.Runtime.InteropServices;

namespace ClickFunctions.Embedded.Log;

/// <summary>Segment files of one partition: {partition dir}/{first sequence number, 20 digits}.avro.</summary>
internal static partial class LogSegments
{
    public const string Extension = ".avro";

    public static string PartitionDirectory(string root, int partition) =>
        Path.Combine(root, partition.ToString("D3", CultureInfo.InvariantCulture));

    public static string PathOf(string partitionDirectory, long firstSequence) =>
        Path.Combine(partitionDirectory, firstSequence.ToString("D20", CultureInfo.InvariantCulture) + Extension);

    /// <summary>First sequence numbers of the segments present, ascending.</summary>
    public static List<long> List(string partitionDirectory)
    {
        var result = new List<long>();
        if (!System.IO.Directory.Exists(partitionDirectory))
        {
            return result;
        }
        foreach (var file in System.IO.Directory.EnumerateFiles(partitionDirectory, "*" + Extension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out long first))
            {
                result.Add(first);
            }
        }
        result.Sort();
        return result;
    }

    /// <summary>Makes a directory entry (a new segment) durable: fsync the directory itself. A no-op off Unix.</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
