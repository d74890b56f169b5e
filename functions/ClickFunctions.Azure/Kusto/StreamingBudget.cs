using System.Collections.Concurrent;

namespace ClickFunctions.Azure.Kusto;

/// <summary>
/// Managed mode's choice between streaming and queued ingestion (decision 063), with no state shared between
/// instances: clicks are spread evenly over the Event Hubs partitions by click id (decision 065), so the table's
/// volume is about <see cref="KustoOptions.SourcePartitions"/> times what one partition writes. Each partition's
/// bytes of the last <see cref="Window"/> are kept here (an instance owns the partitions it aggregates); above
/// <see cref="KustoOptions.StreamingMaxBytesPerHour"/> for the table, or for a payload over the streaming request
/// limit, the rows are queued.
/// </summary>
public sealed class StreamingBudget(KustoOptions options, TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Queue<(long At, int Bytes)>> _partitions = new(StringComparer.Ordinal);

    /// <summary>The table's volume estimated from <paramref name="partition"/>'s writes of the last minute, in bytes per hour.</summary>
    public double EstimatedTableBytesPerHour(string partition)
    {
        var writes = _partitions.GetOrAdd(partition, _ => new Queue<(long, int)>());
        lock (writes)
        {
            Expire(writes, time.GetTimestamp());
            return writes.Sum(w => (double)w.Bytes) * (TimeSpan.FromHours(1) / Window) * options.SourcePartitions;
        }
    }

    /// <summary>Streaming or Queued for a payload of <paramref name="bytes"/> of <paramref name="partition"/>; records it.</summary>
    public KustoIngestionMode Choose(KustoIngestionMode configured, string partition, int bytes)
    {
        if (configured != KustoIngestionMode.Managed)
        {
            return configured;
        }
        var writes = _partitions.GetOrAdd(partition, _ => new Queue<(long, int)>());
        lock (writes)
        {
            long now = time.GetTimestamp();
            Expire(writes, now);
            writes.Enqueue((now, bytes));
            double perHour = writes.Sum(w => (double)w.Bytes) * (TimeSpan.FromHours(1) / Window) * options.SourcePartitions;
            return bytes > options.MaxIngestBytes || perHour > options.StreamingMaxBytesPerHour
                ? KustoIngestionMode.Queued
                : KustoIngestionMode.Managed; // streaming first, queued if it still fails transiently
        }
    }

    private void Expire(Queue<(long At, int Bytes)> writes, long now)
    {
        while (writes.Count > 0 && time.GetElapsedTime(writes.Peek().At, now) >= Window)
        {
            writes.Dequeue();
        }
    }
}
