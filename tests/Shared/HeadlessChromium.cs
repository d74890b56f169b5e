using System.Diagnostics;

namespace ClickFunctions.Tests;

/// <summary>
/// Debian's chromium for the browser tests, installed with apt-get by the test run when missing. Test projects run
/// in parallel processes, so the install holds a lock file (FileShare.None is an exclusive flock on Linux).
/// </summary>
internal static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    public static async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(Path))
        {
            return;
        }
        FileStream? held = null;
        for (var deadline = DateTime.UtcNow.AddMinutes(10); held is null; await Task.Delay(200, cancellationToken))
        {
            try
            {
                held = new FileStream(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "clickfunctions-chromium-install.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another test process is installing: wait for it.
            }
        }
        using (held)
        {
            if (File.Exists(Path))
            {
                return;
            }
            // A fresh container has no package lists yet: update them first.
            foreach (string[] args in new[] { new[] { "update" }, ["install", "-y", "chromium"] })
            {
                var apt = Process.Start(new ProcessStartInfo("apt-get", args) { Environment = { ["DEBIAN_FRONTEND"] = "noninteractive" } })!;
                await apt.WaitForExitAsync(cancellationToken);
            }
        }
        if (!File.Exists(Path))
        {
            throw new InvalidOperationException("chromium is not installed and apt-get install chromium failed");
        }
    }
}
