using System.Globalization;
using ClickFunctions.Embedded.Log;

namespace ClickFunctions.Embedded.Retention;

/// <summary>Whether retention has deleted the front of the log: a partition whose first segment does not start at sequence 0.</summary>
public static class LogTrim
{
    /// <summary>Null for a whole log; otherwise which partitions start where (for a refusal message).</summary>
    public static string? Describe(string logDirectory)
    {
        var trimmed = new List<string>();
        foreach (int partition in LocalClickLog.PartitionsIn(logDirectory))
        {
            var segments = LogSegments.List(LogSegments.PartitionDirectory(logDirectory, partition));
            if (segments.Count > 0 && segments[0] > 0)
            {
                trimmed.Add(string.Create(CultureInfo.InvariantCulture, $"partition {partition} starts at sequence {segments[0]}"));
            }
        }
        return trimmed.Count == 0 ? null : "retention deleted the oldest log segments (" + string.Join(", ", trimmed) + ")";
    }
}
