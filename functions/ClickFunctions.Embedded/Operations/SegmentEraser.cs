using System.Buffers;
using ClickFunctions.Capture;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Log;

namespace ClickFunctions.Embedded.Operations;

/// <summary>
/// Finds and erases records in the log's segment files with no writer running. A record is erased by a tombstone:
/// the same sequence number and enqueued time with an empty body, in a block of its own original block's records, so
/// every partition keeps every sequence number (the consumer's reader and the gap audit see no hole) and no byte of
/// the click remains. A segment is rewritten into <c>{segment}.erasing</c> (same Avro sync marker), fsync'd, renamed
/// over the original and the directory fsync'd: a crash leaves either the old or the new file, never half of one, and
/// a stray <c>.erasing</c> file that the next run replaces (docs/decisions/087-erasure-by-tombstones.md).
/// </summary>
internal static class SegmentEraser
{
    public const string TemporarySuffix = ".erasing";

    /// <summary>The records of <paramref name="path"/> that <paramref name="request"/> matches (whole blocks only; a torn tail is not read).</summary>
    public static List<ErasedRecord> Find(int partition, string path, ErasureRequest request)
    {
        var found = new List<ErasedRecord>();
        Scan(path, (records, _) =>
        {
            foreach (var record in records)
            {
                if (Decode(record) is { } click && request.Matches(click))
                {
                    found.Add(new ErasedRecord(partition, record.SequenceNumber, click.Timestamp, click.AdvertiserId, click.AdId, click.Reason.Code()));
                }
            }
        });
        return found;
    }

    /// <summary>Rewrites <paramref name="path"/> with the records of <paramref name="sequences"/> replaced by tombstones.</summary>
    public static void Rewrite(string path, IReadOnlySet<long> sequences)
    {
        string temporary = path + TemporarySuffix;
        byte[] sync;
        using (var probe = File.OpenRead(path))
        using (var reader = CaptureFileReader.Open(probe, leaveOpen: true) ?? throw new InvalidDataException($"{path} has no Avro header."))
        {
            sync = reader.Sync.ToArray();
        }
        var writer = new CaptureBlockWriter(sync);
        var block = new ArrayBufferWriter<byte>(1 << 20);
        using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            output.Write(writer.Header());
            Scan(path, (records, _) =>
            {
                block.ResetWrittenCount();
                long offset = output.Position;
                writer.BeginBlock();
                foreach (var record in records)
                {
                    writer.Add(record.SequenceNumber, offset, record.EnqueuedTimeUtc, sequences.Contains(record.SequenceNumber) ? [] : record.Body ?? []);
                }
                writer.EndBlock(block);
                output.Write(block.WrittenSpan);
            });
            output.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        LogSegments.SyncDirectory(Path.GetDirectoryName(path)!);
    }

    private static void Scan(string path, Action<List<CaptureRecord>, long> onBlock)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var reader = CaptureFileReader.Open(stream, leaveOpen: true);
        if (reader is null)
        {
            return;
        }
        long length = stream.Length;
        var records = new List<CaptureRecord>();
        while (true)
        {
            records.Clear();
            long at = reader.Position;
            if (reader.TryReadBlock(length, records) != BlockStatus.Read)
            {
                return;
            }
            onBlock(records, at);
        }
    }

    private static ClickEvent? Decode(CaptureRecord record)
    {
        if (record.Body is not { Length: > 0 } body)
        {
            return null;
        }
        try
        {
            return ClickWireFormat.Decode(body);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
