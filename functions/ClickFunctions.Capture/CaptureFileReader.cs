using System.Globalization;
using System.IO.Compression;
using System.Text;
using Avro;
using Avro.Generic;
using Avro.IO;

namespace ClickFunctions.Capture;

public enum BlockStatus
{
    /// <summary>A whole block was read and decoded.</summary>
    Read,
    /// <summary>The stream (or the given limit) ends exactly at a block boundary.</summary>
    End,
    /// <summary>The bytes from the block start on are not a whole, valid block: a torn tail, or corruption.</summary>
    Torn,
}

/// <summary>
/// Reads Avro object container files with the Event Hubs Capture schema, block by block: Capture blobs
/// (codec null or deflate) and local log segments alike. Framing (header, blocks, sync markers) is read here
/// so that a reader can start at any block boundary, stop at a committed length, and tell a torn tail from the
/// end; records are decoded by Apache.Avro against the writer schema found in the file header.
/// </summary>
public sealed class CaptureFileReader : IDisposable
{
    private const int MaxBlockBytes = 64 * 1024 * 1024;
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _sync;
    private readonly GenericDatumReader<GenericRecord> _datumReader;

    private CaptureFileReader(Stream stream, bool leaveOpen, string codec, byte[] sync, Schema schema, long headerLength)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
        Codec = codec;
        _sync = sync;
        HeaderLength = headerLength;
        _datumReader = new GenericDatumReader<GenericRecord>(schema, schema);
    }

    public string Codec { get; }

    public long HeaderLength { get; }

    public ReadOnlySpan<byte> Sync => _sync;

    public long Position
    {
        get => _stream.Position;
        set => _stream.Position = value;
    }

    /// <summary>
    /// Reads the header. Returns null for an empty or header-less (torn during creation) stream, which holds no
    /// events; throws <see cref="InvalidDataException"/> for a stream that is not an Avro container at all.
    /// </summary>
    public static CaptureFileReader? Open(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got == 0)
        {
            return null;
        }
        if (got < 4)
        {
            return null;
        }
        if (!magic.SequenceEqual(CaptureSchema.Magic))
        {
            throw new InvalidDataException("Not an Avro object container file (bad magic).");
        }
        var metadata = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        while (true)
        {
            if (!AvroBinary.TryReadLong(stream, out long count))
            {
                return null;
            }
            if (count == 0)
            {
                break;
            }
            if (count < 0)
            {
                count = -count;
                if (!AvroBinary.TryReadLong(stream, out _))
                {
                    return null;
                }
            }
            for (long i = 0; i < count; i++)
            {
                if (!AvroBinary.TryReadBytes(stream, 1 << 20, out var key) || !AvroBinary.TryReadBytes(stream, 1 << 20, out var value))
                {
                    return null;
                }
                metadata[Encoding.UTF8.GetString(key)] = value;
            }
        }
        var sync = new byte[CaptureSchema.SyncSize];
        if (stream.ReadAtLeast(sync, sync.Length, throwOnEndOfStream: false) < sync.Length)
        {
            return null;
        }
        string codec = metadata.TryGetValue("avro.codec", out var c) ? Encoding.UTF8.GetString(c) : "null";
        if (codec is not ("null" or "deflate"))
        {
            throw new InvalidDataException($"Unsupported Avro codec '{codec}' (Capture writes null or deflate).");
        }
        if (!metadata.TryGetValue("avro.schema", out var schemaBytes))
        {
            throw new InvalidDataException("The Avro header has no schema.");
        }
        var schema = Schema.Parse(Encoding.UTF8.GetString(schemaBytes));
        return new CaptureFileReader(stream, leaveOpen, codec, sync, schema, stream.Position);
    }

    /// <summary>
    /// Checks only the framing of the block at <see cref="Position"/> (its count and size, its data within
    /// <paramref name="limit"/>, its sync marker) and moves past it without decoding a record: whether a block is
    /// whole does not depend on what its records hold. Returns <see cref="BlockStatus.Read"/> with the block's record
    /// count, <see cref="BlockStatus.End"/> at <paramref name="limit"/>, or <see cref="BlockStatus.Torn"/> (position
    /// left at the block start) for framing that runs past the limit or a wrong sync marker.
    /// </summary>
    public BlockStatus TrySkipBlock(long limit, out long count)
    {
        long start = _stream.Position;
        count = 0;
        if (start >= limit)
        {
            return start == limit ? BlockStatus.End : BlockStatus.Torn;
        }
        if (!AvroBinary.TryReadLong(_stream, out long blockCount) || !AvroBinary.TryReadLong(_stream, out long size) ||
            blockCount <= 0 || size <= 0 || size > MaxBlockBytes || _stream.Position + size + CaptureSchema.SyncSize > limit)
        {
            _stream.Position = start;
            return BlockStatus.Torn;
        }
        _stream.Position += size;
        Span<byte> sync = stackalloc byte[CaptureSchema.SyncSize];
        if (_stream.ReadAtLeast(sync, sync.Length, throwOnEndOfStream: false) < sync.Length || !sync.SequenceEqual(_sync))
        {
            _stream.Position = start;
            return BlockStatus.Torn;
        }
        count = blockCount;
        return BlockStatus.Read;
    }

    /// <summary>
    /// Reads the block at <see cref="Position"/>, not reading past <paramref name="limit"/> bytes of the stream.
    /// On <see cref="BlockStatus.Torn"/> the position is left at the block start, so the caller can cut the file there.
    /// </summary>
    public BlockStatus TryReadBlock(long limit, List<CaptureRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        long start = _stream.Position;
        if (start >= limit)
        {
            return start == limit ? BlockStatus.End : BlockStatus.Torn;
        }
        if (!AvroBinary.TryReadLong(_stream, out long count) || !AvroBinary.TryReadLong(_stream, out long size) ||
            count <= 0 || size <= 0 || size > MaxBlockBytes || _stream.Position + size + CaptureSchema.SyncSize > limit)
        {
            _stream.Position = start;
            return BlockStatus.Torn;
        }
        var data = new byte[size];
        Span<byte> sync = stackalloc byte[CaptureSchema.SyncSize];
        if (_stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false) < data.Length ||
            _stream.ReadAtLeast(sync, sync.Length, throwOnEndOfStream: false) < sync.Length ||
            !sync.SequenceEqual(_sync))
        {
            _stream.Position = start;
            return BlockStatus.Torn;
        }
        int before = records.Count;
        try
        {
            using var blockStream = Codec == "deflate"
                ? (Stream)new DeflateStream(new MemoryStream(data), CompressionMode.Decompress)
                : new MemoryStream(data);
            var decoder = new BinaryDecoder(blockStream);
            for (long i = 0; i < count; i++)
            {
                records.Add(ToRecord(_datumReader.Read(null!, decoder)));
            }
        }
        catch (Exception e) when (e is AvroException or IOException or InvalidDataException or FormatException or InvalidCastException or OverflowException)
        {
            records.RemoveRange(before, records.Count - before);
            _stream.Position = start;
            return BlockStatus.Torn;
        }
        return BlockStatus.Read;
    }

    /// <summary>Reads every record from the current position to the end; a torn or corrupt block is an error here.</summary>
    public IEnumerable<CaptureRecord> ReadToEnd()
    {
        var records = new List<CaptureRecord>();
        while (true)
        {
            records.Clear();
            long at = Position;
            switch (TryReadBlock(long.MaxValue, records))
            {
                case BlockStatus.Read:
                    foreach (var record in records)
                    {
                        yield return record;
                    }
                    break;
                case BlockStatus.End:
                    yield break;
                default:
                    if (at >= _stream.Length)
                    {
                        yield break;
                    }
                    throw new InvalidDataException($"Invalid or incomplete Avro block at byte {at}.");
            }
        }
    }

    public static DateTimeOffset ParseEnqueuedTime(string text)
    {
        if (DateTime.TryParseExact(text, CaptureSchema.EnqueuedTimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var exact) ||
            DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out exact))
        {
            return new DateTimeOffset(DateTime.SpecifyKind(exact, DateTimeKind.Utc));
        }
        throw new FormatException($"Unrecognised EnqueuedTimeUtc '{text}'.");
    }

    private static CaptureRecord ToRecord(GenericRecord record) => new(
        (long)record["SequenceNumber"],
        (string)record["Offset"],
        ParseEnqueuedTime((string)record["EnqueuedTimeUtc"]),
        Map(record["SystemProperties"]),
        Map(record["Properties"]),
        record["Body"] as byte[]);

    // Apache.Avro decodes an Avro map as Dictionary<string, object>.
    private static Dictionary<string, object?> Map(object? value) =>
        value is IDictionary<string, object> map
            ? map.ToDictionary(p => p.Key, p => (object?)p.Value, StringComparer.Ordinal)
            : new Dictionary<string, object?>(StringComparer.Ordinal);

    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }
}
