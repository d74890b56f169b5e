using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ClickFunctions.Capture;

/// <summary>
/// Encodes Avro object container files with the Capture schema, codec null: a header, then one block per
/// <see cref="BeginBlock"/> / <see cref="EndBlock"/>. Blocks are built in memory so that a caller (the local log's
/// group commit) writes and fsyncs each as one append; records carry empty property maps.
/// </summary>
public sealed class CaptureBlockWriter
{
    private readonly ArrayBufferWriter<byte> _records = new(64 * 1024);
    private int _count;

    public CaptureBlockWriter(byte[]? sync = null)
    {
        Sync = sync ?? RandomNumberGenerator.GetBytes(CaptureSchema.SyncSize);
        if (Sync.Length != CaptureSchema.SyncSize)
        {
            throw new ArgumentException("An Avro sync marker is 16 bytes.", nameof(sync));
        }
    }

    public byte[] Sync { get; }

    public static byte[] Header(byte[] sync)
    {
        ArgumentNullException.ThrowIfNull(sync);
        var buffer = new ArrayBufferWriter<byte>(1024);
        buffer.Write(CaptureSchema.Magic);
        WriteLong(buffer, 2);
        WriteString(buffer, "avro.codec");
        WriteBytes(buffer, "null"u8);
        WriteString(buffer, "avro.schema");
        WriteBytes(buffer, Encoding.UTF8.GetBytes(CaptureSchema.Json));
        WriteLong(buffer, 0);
        buffer.Write(sync);
        return buffer.WrittenSpan.ToArray();
    }

    public byte[] Header() => Header(Sync);

    public void BeginBlock()
    {
        _records.ResetWrittenCount();
        _count = 0;
    }

    public void Add(long sequenceNumber, long offset, DateTimeOffset enqueuedTimeUtc, ReadOnlySpan<byte> body)
    {
        WriteLong(_records, sequenceNumber);
        Span<char> text = stackalloc char[32];
        offset.TryFormat(text, out int offsetLength, provider: CultureInfo.InvariantCulture);
        WriteString(_records, text[..offsetLength]);
        enqueuedTimeUtc.UtcDateTime.TryFormat(text, out int timeLength, CaptureSchema.EnqueuedTimeFormat, CultureInfo.InvariantCulture);
        WriteString(_records, text[..timeLength]);
        WriteLong(_records, 0); // SystemProperties: empty map
        WriteLong(_records, 0); // Properties: empty map
        WriteLong(_records, 1); // Body: union branch "bytes"
        WriteBytes(_records, body);
        _count++;
    }

    public int Count => _count;

    /// <summary>Bytes of the records added since <see cref="BeginBlock"/> (the block's data, before framing).</summary>
    public int BlockBytes => _records.WrittenCount;

    /// <summary>Frames the records added since <see cref="BeginBlock"/> as one block (count, size, data, sync) into <paramref name="output"/>.</summary>
    public void EndBlock(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteLong(output, _count);
        WriteLong(output, _records.WrittenCount);
        output.Write(_records.WrittenSpan);
        output.Write(Sync);
    }

    private static void WriteLong(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(10);
        output.Advance(AvroBinary.WriteLong(value, span));
    }

    private static void WriteBytes(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteLong(output, bytes.Length);
        output.Write(bytes);
    }

    private static void WriteString(ArrayBufferWriter<byte> output, ReadOnlySpan<char> text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var span = output.GetSpan(max + 10);
        int length = Encoding.UTF8.GetBytes(text, span[10..]);
        int prefix = AvroBinary.WriteLong(length, span);
        span.Slice(10, length).CopyTo(span[prefix..]);
        output.Advance(prefix + length);
    }
}
