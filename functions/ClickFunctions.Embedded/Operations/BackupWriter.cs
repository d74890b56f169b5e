using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Store;

namespace ClickFunctions.Embedded.Operations;

/// <summary>
/// A consistent backup of a data directory, taken while the host runs (docs/decisions/086-online-backup-and-restore.md):
/// <list type="number">
/// <item>the store, checkpointed and copied under its writer lock (<see cref="DuckDbClickStore.CopyTo"/>), so the copy
/// holds whole transactions only and the consumer positions that match its counts;</item>
/// <item>then each log partition up to what is committed at that moment, which is at or past the copied positions:
/// sealed segments whole, the active one up to its committed length (bytes that never change again);</item>
/// <item>then <c>backup.json</c>, and the directory renamed from a temporary name into place, so a crash leaves no
/// directory that looks like a backup.</item>
/// </list>
/// A click acknowledged before the backup started is in the copied log; one arriving later is either in it or after its
/// end, in the live log, from which a restore that keeps a surviving log replays it. Secrets (day keys, development
/// key) are not copied: a backup must not keep a day key alive past its destruction (invariant 6).
/// </summary>
public static class BackupWriter
{
    /// <param name="log">The running host's log (online), or null when no writer runs on the directory (offline).</param>
    public static BackupManifest Write(DuckDbClickStore store, LocalClickLog? log, string logDirectory, string destination, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        destination = Path.GetFullPath(destination);
        if (Directory.Exists(destination) || File.Exists(destination))
        {
            throw new IOException($"{destination} already exists; a backup goes into a new directory.");
        }
        string parent = Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(parent);
        string temporary = Path.Combine(parent, "." + Path.GetFileName(destination) + ".partial-" + Guid.NewGuid().ToString("N")[..8]);
        var created = Directory.CreateDirectory(temporary);
        if (!OperatingSystem.IsWindows())
        {
            created.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        }
        try
        {
            var takenAt = time.GetUtcNow();
            var positions = store.CopyTo(Path.Combine(temporary, ClickStoreOptions.FileName));
            var files = new List<BackupFile> { Describe(temporary, ClickStoreOptions.FileName) };
            var ends = new Dictionary<string, long>(StringComparer.Ordinal);
            var partitions = log is not null ? log.Partitions.Select(p => p.Id).ToList() : [.. LocalClickLog.PartitionsIn(logDirectory)];
            foreach (int partition in partitions)
            {
                var committed = log?.Partitions.First(p => p.Id == partition).Committed;
                string source = LogSegments.PartitionDirectory(logDirectory, partition);
                string relative = Path.Combine(EmbeddedPaths.LogDirectoryName, Path.GetFileName(source));
                string target = Path.Combine(temporary, relative);
                Directory.CreateDirectory(target);
                foreach (long first in LogSegments.List(source))
                {
                    if (committed is not null && first > committed.SegmentFirstSequence)
                    {
                        break; // rolled after the snapshot: past the copied end
                    }
                    long? length = committed is not null && first == committed.SegmentFirstSequence ? committed.SegmentLength : null;
                    string name = Path.GetFileName(LogSegments.PathOf(source, first));
                    CopyPrefix(LogSegments.PathOf(source, first), Path.Combine(target, name), length);
                    files.Add(Describe(temporary, Path.Combine(relative, name)));
                }
                LogSegments.SyncDirectory(target);
                ends[partition.ToString(CultureInfo.InvariantCulture)] = committed?.NextSequence ?? OfflineEnd(logDirectory, partition);
            }
            var manifest = new BackupManifest(BackupManifest.CurrentFormat, takenAt, log is not null,
                positions.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value, StringComparer.Ordinal), ends, files);
            WriteDurably(Path.Combine(temporary, BackupManifest.FileName), JsonSerializer.SerializeToUtf8Bytes(manifest, BackupJson.Default.BackupManifest));
            LogSegments.SyncDirectory(temporary);
            Directory.Move(temporary, destination);
            LogSegments.SyncDirectory(parent);
            return manifest;
        }
        catch
        {
            Directory.Delete(temporary, recursive: true);
            throw;
        }
    }

    /// <summary>Where a partition ends with no writer running: after its last whole block (as recovery finds it).</summary>
    private static long OfflineEnd(string logDirectory, int partition)
    {
        using var reader = LocalClickLog.OpenOfflineReader(logDirectory, partition, LogSegments.List(LogSegments.PartitionDirectory(logDirectory, partition)).FirstOrDefault());
        var events = new List<Ports.RawEvent>();
        while (reader.Read(events, 65_536) > 0)
        {
            events.Clear();
        }
        return reader.NextSequence;
    }

    private static void CopyPrefix(string source, string target, long? length)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 20);
        using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        long remaining = length ?? input.Length;
        var buffer = new byte[1 << 20];
        while (remaining > 0)
        {
            int read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0)
            {
                throw new IOException($"{source} ended {remaining} bytes before its committed length.");
            }
            output.Write(buffer, 0, read);
            remaining -= read;
        }
        output.Flush(flushToDisk: true);
    }

    internal static BackupFile Describe(string root, string relative)
    {
        string path = Path.Combine(root, relative);
        using var stream = File.OpenRead(path);
        return new BackupFile(relative.Replace('\\', '/'), stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }

    internal static void WriteDurably(string path, byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }
}
