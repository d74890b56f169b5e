using ClickFunctions.Embedded.Log;

namespace ClickFunctions.Embedded.Privacy;

/// <summary>
/// Files that hold secrets in the data directory (the development signing key, the day keys): written readable by
/// the owner only and fsync'd; replaced by a new file renamed over the old one, whose bytes are then overwritten, so
/// a secret removed from the file does not linger in the unlinked inode.
/// </summary>
public static class SecretFiles
{
    /// <summary>Creates <paramref name="path"/> (it must not exist) with mode 0600 and the content fsync'd.</summary>
    public static void WritePrivate(string path, ReadOnlySpan<byte> content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var file = new FileStream(path, options);
        file.Write(content);
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/>: a new private file, fsync'd, renamed into
    /// place with the directory fsync'd, then the old file's bytes (still open) overwritten with zeros.
    /// </summary>
    public static void ReplaceAndShred(string path, ReadOnlySpan<byte> content)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        string temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            WritePrivate(temp, content);
            using var old = File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete) : null;
            File.Move(temp, path, overwrite: true);
            LogSegments.SyncDirectory(directory);
            if (old is not null)
            {
                old.Write(new byte[old.Length]);
                old.Flush(flushToDisk: true);
            }
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
