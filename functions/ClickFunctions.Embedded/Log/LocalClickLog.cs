using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Embedded.Log;

/// <summary>
/// The embedded click log: clicks partitioned by ad id (so duplicates of one ad meet in one partition), each
/// partition an fsync'd, append-only series of Avro files with the Event Hubs Capture schema.
/// </summary>
public sealed class LocalClickLog : IClickLog, IDisposable
{
    private readonly LogPartition[] _partitions;

    public LocalClickLog(LocalLogOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger<LocalClickLog>();
        Directory = options.Directory;
        _partitions = new LogPartition[options.Partitions];
        for (int i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = LogPartition.Open(options.Directory, i, options, time, logger);
        }
    }

    public string Directory { get; }

    public IReadOnlyList<LogPartition> Partitions => _partitions;

    public ValueTask AppendAsync(ClickEvent click, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(click);
        var body = ClickWireFormat.Encode(click);
        return new ValueTask(_partitions[PartitionOf(click.AdId, _partitions.Length)].AppendAsync(body, cancellationToken));
    }

    /// <summary>FNV-1a over the ad id's UTF-16 code units, modulo the partition count: stable across processes and versions.</summary>
    public static int PartitionOf(string adId, int partitions)
    {
        ArgumentNullException.ThrowIfNull(adId);
        uint hash = 2166136261;
        foreach (char c in adId)
        {
            hash = (hash ^ c) * 16777619;
        }
        return (int)(hash % (uint)partitions);
    }

    /// <summary>Partition numbers present in a log directory (for offline readers: reconcile, tests).</summary>
    public static IReadOnlyList<int> PartitionsIn(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return [];
        }
        return [.. System.IO.Directory.EnumerateDirectories(directory)
            .Select(Path.GetFileName)
            .Select(name => int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p) ? p : -1)
            .Where(p => p >= 0)
            .Order()];
    }

    /// <summary>A reader over a log directory with no writer running (reconcile, tests): reads every whole block, stops at a torn tail.</summary>
    public static LogPartitionReader OpenOfflineReader(string directory, int partition, long fromSequence) =>
        new(LogSegments.PartitionDirectory(directory, partition), partition.ToString(System.Globalization.CultureInfo.InvariantCulture), fromSequence);

    public void Dispose()
    {
        foreach (var partition in _partitions)
        {
            partition.Dispose();
        }
    }
}
