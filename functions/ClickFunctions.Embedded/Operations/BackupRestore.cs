using System.Globalization;
using System.Text.Json;
using ClickFunctions.Capture;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Store;

namespace ClickFunctions.Embedded.Operations;

/// <summary>What a restore did, per partition: kept the data directory's own (surviving) log or put the backup's in place.</summary>
public sealed record RestoreResult(BackupManifest Manifest, IReadOnlyDictionary<int, string> Partitions, IReadOnlyList<string> MovedAside);

/// <summary>
/// Restores a backup (<see cref="BackupWriter"/>) into a data directory with no host running on it: the store is
/// replaced by the backup's copy (the one there is moved aside, never deleted); each log partition keeps the data
/// directory's own segments when they are the same log and reach from the backup's store position on (so clicks that
/// came after the backup are replayed by the consumer at start), else the backup's segments are put in place. Every
/// file is checked against the manifest's SHA-256 before anything is touched.
/// </summary>
public static class BackupRestore
{
    public static RestoreResult Restore(string backup, EmbeddedPaths paths, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(time);
        backup = Path.GetFullPath(backup);
        string manifestPath = Path.Combine(backup, BackupManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw new InvalidDataException($"{backup} holds no {BackupManifest.FileName}: not a (complete) backup.");
        }
        var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(manifestPath), BackupJson.Default.BackupManifest)
            ?? throw new InvalidDataException($"{manifestPath} is empty.");
        if (manifest.FormatVersion != BackupManifest.CurrentFormat)
        {
            throw new InvalidDataException($"{manifestPath} has format {manifest.FormatVersion}; this build restores format {BackupManifest.CurrentFormat}.");
        }
        foreach (var file in manifest.Files)
        {
            var actual = BackupWriter.Describe(backup, file.Path);
            if (actual != file)
            {
                throw new InvalidDataException($"{Path.Combine(backup, file.Path)} does not match the manifest ({actual.Bytes} bytes, sha256 {actual.Sha256}; expected {file.Bytes}, {file.Sha256}): the backup is damaged.");
            }
        }

        Directory.CreateDirectory(paths.DataDirectory);
        string stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var movedAside = new List<string>();
        var decisions = new Dictionary<int, string>();
        foreach (var (name, end) in manifest.LogEnds)
        {
            int partition = int.Parse(name, NumberStyles.None, CultureInfo.InvariantCulture);
            long position = manifest.StorePositions.GetValueOrDefault(name);
            string own = LogSegments.PartitionDirectory(paths.LogDirectory, partition);
            string theirs = Path.Combine(backup, EmbeddedPaths.LogDirectoryName, Path.GetFileName(own));
            if (Continues(own, theirs, position, end) is { } why)
            {
                decisions[partition] = "kept the data directory's log: " + why;
                continue;
            }
            if (Directory.Exists(own))
            {
                string aside = $"{own}.before-restore-{stamp}";
                Directory.Move(own, aside);
                movedAside.Add(aside);
            }
            CopyDirectory(theirs, own);
            decisions[partition] = string.Create(CultureInfo.InvariantCulture, $"restored the backup's log (sequences up to {end})");
        }

        foreach (string path in new[] { paths.StorePath, paths.StorePath + ".wal" })
        {
            if (File.Exists(path))
            {
                string aside = $"{path}.before-restore-{stamp}";
                File.Move(path, aside);
                movedAside.Add(aside);
            }
        }
        string temporary = paths.StorePath + ".restore";
        File.Copy(Path.Combine(backup, ClickStoreOptions.FileName), temporary, overwrite: true);
        using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, paths.StorePath);
        LogSegments.SyncDirectory(Path.GetDirectoryName(paths.StorePath)!);
        return new RestoreResult(manifest, decisions, movedAside);
    }

    /// <summary>
    /// Why the data directory's own partition can stay (null when it cannot): the backup's segments present in both
    /// are the same files (same Avro sync marker), it holds every sequence from the store copy's position on, and
    /// reaches at least the backup's end.
    /// </summary>
    private static string? Continues(string own, string theirs, long position, long end)
    {
        var ownSegments = LogSegments.List(own);
        if (ownSegments.Count == 0 || ownSegments[0] > position)
        {
            return null;
        }
        foreach (long first in LogSegments.List(theirs))
        {
            if (ownSegments.Contains(first) && !SyncMarker(LogSegments.PathOf(own, first)).AsSpan().SequenceEqual(SyncMarker(LogSegments.PathOf(theirs, first))))
            {
                return null;
            }
        }
        using var reader = new LogPartitionReader(own, Path.GetFileName(own), position);
        var events = new List<Ports.RawEvent>();
        try
        {
            while (reader.Read(events, 65_536) > 0)
            {
                events.Clear();
            }
        }
        catch (InvalidDataException)
        {
            return null;
        }
        return reader.NextSequence >= end
            ? string.Create(CultureInfo.InvariantCulture, $"same log, holds {position}..{reader.NextSequence - 1} (the backup ended at {end}); the consumer replays what came after the backup")
            : null;
    }

    private static byte[] SyncMarker(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = CaptureFileReader.Open(stream, leaveOpen: true);
        return reader?.Sync.ToArray() ?? [];
    }

    private static void CopyDirectory(string source, string target)
    {
        string temporary = target + ".restore";
        if (Directory.Exists(temporary))
        {
            Directory.Delete(temporary, recursive: true);
        }
        Directory.CreateDirectory(temporary);
        if (Directory.Exists(source))
        {
            foreach (string file in Directory.EnumerateFiles(source))
            {
                string copy = Path.Combine(temporary, Path.GetFileName(file));
                File.Copy(file, copy);
                using var stream = new FileStream(copy, FileMode.Open, FileAccess.ReadWrite);
                stream.Flush(flushToDisk: true);
            }
        }
        LogSegments.SyncDirectory(temporary);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.Move(temporary, target);
        LogSegments.SyncDirectory(Path.GetDirectoryName(target)!);
    }
}
