namespace ClickFunctions.Capture;

/// <summary>Avro's binary primitives: zig-zag varint longs and length-prefixed bytes.</summary>
public static class AvroBinary
{
    public static bool TryReadLong(Stream stream, out long value)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ulong raw = 0;
        int shift = 0;
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0 || shift > 63)
            {
                value = 0;
                return false;
            }
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
            shift += 7;
        }
        value = (long)(raw >> 1) ^ -(long)(raw & 1);
        return true;
    }

    public static bool TryReadBytes(Stream stream, int maxLength, out byte[] bytes)
    {
        bytes = [];
        if (!TryReadLong(stream, out long length) || length < 0 || length > maxLength)
        {
            return false;
        }
        bytes = new byte[length];
        return stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) == bytes.Length;
    }

    public static int WriteLong(long value, Span<byte> destination)
    {
        ulong raw = (ulong)((value << 1) ^ (value >> 63));
        int i = 0;
        while (raw >= 0x80)
        {
            destination[i++] = (byte)(raw | 0x80);
            raw >>= 7;
        }
        destination[i++] = (byte)raw;
        return i;
    }
}
