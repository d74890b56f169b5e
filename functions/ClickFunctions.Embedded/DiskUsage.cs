using System.Diagnostics.Metrics;

namespace ClickFunctions.Embedded;

/// <summary>
/// Bytes on disk of the embedded shape's log (every segment of every partition) and store (the DuckDB file and its
/// write-ahead log), measured when asked (on /healthz, and on each /metrics scrape through the gauges of the
/// <see cref="MeterName"/> meter: <c>clickfunctions.log.size</c> and <c>clickfunctions.store.size</c>, in bytes).
/// </summary>
public sealed class DiskUsage : IDisposable
{
    public const string MeterName = "ClickFunctions.Embedded";

    private readonly EmbeddedPaths _paths;
    private readonly Meter _meter;

    public DiskUsage(EmbeddedPaths paths, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _paths = paths;
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("clickfunctions.log.size", LogBytes, "By", "Bytes of the local click log's segment files.");
        _meter.CreateObservableGauge("clickfunctions.store.size", StoreBytes, "By", "Bytes of the DuckDB store file and its write-ahead log.");
    }

    public long LogBytes() => DirectoryBytes(_paths.LogDirectory);

    public long StoreBytes() => FileBytes(_paths.StorePath) + FileBytes(_paths.StorePath + ".wal");

    public static long DirectoryBytes(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }
        long total = 0;
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            try
            {
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // deleted by retention while we counted
            }
        }
        return total;
    }

    private static long FileBytes(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    public void Dispose() => _meter.Dispose();
}
