using System.Diagnostics;

namespace ClickFunctions.Tests.Log;

/// <summary>
/// A real, small filesystem for full-disk tests: a tmpfs of a few hundred KiB mounted on a temporary directory (needs
/// root or CAP_SYS_ADMIN), unmounted on dispose. <see cref="TryMount"/> says why when it cannot, so the test can skip
/// with that reason instead of pretending.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static SmallDisk? TryMount(long bytes, out string whyNot)
    {
        whyNot = "";
        if (!OperatingSystem.IsLinux())
        {
            whyNot = "full-disk tests mount a tmpfs, which needs Linux";
            return null;
        }
        string path = Directory.CreateTempSubdirectory("cf-small-disk-").FullName;
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            whyNot = $"cannot mount a tmpfs here (mount exited {code}: {output.Trim()}); run as root to test a full disk";
            return null;
        }
        return new SmallDisk(path);
    }

    /// <summary>Writes zeros to a new file until the disk refuses (ENOSPC); returns the file's path.</summary>
    public string Fill()
    {
        string filler = System.IO.Path.Combine(Path, "filler");
        var chunk = new byte[4096];
        using var file = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
            {
                file.Write(chunk);
            }
        }
        catch (IOException)
        {
            // Full.
        }
        // A last, smaller write can still fit in what a whole chunk did not.
        try
        {
            while (true)
            {
                file.Write(chunk.AsSpan(0, 1));
            }
        }
        catch (IOException)
        {
            return filler;
        }
    }

    public void Dispose()
    {
        _ = Run("umount", "-l", Path);
        Directory.Delete(Path, recursive: true);
    }

    private static (int Code, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
