using System.Buffers.Binary;
using System.Text;

namespace ClickFunctions.Clicks;

/// <summary>
/// The compact, versioned binary form of a <see cref="ClickEvent"/> (docs/wire-format.md). Version 1:
/// <code>
/// offset size  field
/// 0      1     version (1)
/// 1      1     reason (ClickReason)
/// 2      16    click id (big-endian)
/// 18     8     timestamp, Unix milliseconds, little-endian int64
/// 26     16    fingerprint (big-endian)
/// 42     ...   five strings, each a LEB128 length then UTF-8 bytes:
///              ad id, advertiser id, campaign id, referrer host, truncated IP
/// </code>
/// Decoders reject unknown versions, unknown reasons, short or trailing bytes with <see cref="FormatException"/>.
/// </summary>
public static class ClickWireFormat
{
    public const byte Version1 = 1;
    private const int FixedSize = 42;
    private const int MaxStringBytes = 1024;

    public static int MaxSize(ClickEvent click)
    {
        ArgumentNullException.ThrowIfNull(click);
        return FixedSize + 5 * 5 + Encoding.UTF8.GetMaxByteCount(
            click.AdId.Length + click.AdvertiserId.Length + click.CampaignId.Length + click.ReferrerHost.Length + click.TruncatedIp.Length);
    }

    public static byte[] Encode(ClickEvent click)
    {
        var buffer = new byte[MaxSize(click)];
        int written = Encode(click, buffer);
        return buffer.AsSpan(0, written).ToArray();
    }

    /// <summary>Writes the event into <paramref name="destination"/> (at least <see cref="MaxSize"/> bytes) and returns the length.</summary>
    public static int Encode(ClickEvent click, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(click);
        destination[0] = Version1;
        destination[1] = (byte)click.Reason;
        click.ClickId.Write(destination[2..]);
        BinaryPrimitives.WriteInt64LittleEndian(destination[18..], click.Timestamp.ToUnixTimeMilliseconds());
        click.Fingerprint.Write(destination[26..]);
        int offset = FixedSize;
        offset += WriteString(click.AdId, destination[offset..]);
        offset += WriteString(click.AdvertiserId, destination[offset..]);
        offset += WriteString(click.CampaignId, destination[offset..]);
        offset += WriteString(click.ReferrerHost, destination[offset..]);
        offset += WriteString(click.TruncatedIp, destination[offset..]);
        return offset;
    }

    public static ClickEvent Decode(ReadOnlySpan<byte> source) => Decode(source, null);

    /// <summary>Decodes, taking repeated strings from <paramref name="strings"/> (the aggregation step's batch pool).</summary>
    public static ClickEvent Decode(ReadOnlySpan<byte> source, Utf8StringPool? strings)
    {
        if (source.Length < FixedSize)
        {
            throw new FormatException($"A click event needs at least {FixedSize} bytes; got {source.Length}.");
        }
        if (source[0] != Version1)
        {
            throw new FormatException($"Unknown click wire format version {source[0]}.");
        }
        if (!ClickReasons.IsDefined(source[1]))
        {
            throw new FormatException($"Unknown click reason {source[1]}.");
        }
        var reason = (ClickReason)source[1];
        var id = ClickId.Read(source[2..]);
        long millis = BinaryPrimitives.ReadInt64LittleEndian(source[18..]);
        if (millis < 0 || millis > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new FormatException($"Timestamp {millis} is out of range.");
        }
        var fingerprint = Fingerprint.Read(source[26..]);
        int offset = FixedSize;
        string adId = ReadString(source, ref offset, strings);
        string advertiserId = ReadString(source, ref offset, strings);
        string campaignId = ReadString(source, ref offset, strings);
        string referrer = ReadString(source, ref offset, strings);
        string ip = ReadString(source, ref offset, strings);
        if (offset != source.Length)
        {
            throw new FormatException($"{source.Length - offset} trailing bytes after the click event.");
        }
        if (adId.Length == 0 || advertiserId.Length == 0)
        {
            throw new FormatException("A click event needs an ad id and an advertiser id.");
        }
        return new ClickEvent(id, DateTimeOffset.FromUnixTimeMilliseconds(millis), adId, advertiserId, campaignId, reason, referrer, ip, fingerprint);
    }

    private static int WriteString(string value, Span<byte> destination)
    {
        int byteCount = Encoding.UTF8.GetBytes(value, destination[5..]);
        if (byteCount > MaxStringBytes)
        {
            throw new ArgumentException($"A click event string is limited to {MaxStringBytes} bytes.", nameof(value));
        }
        int prefix = WriteVarint((uint)byteCount, destination);
        if (prefix != 5)
        {
            destination.Slice(5, byteCount).CopyTo(destination[prefix..]);
        }
        return prefix + byteCount;
    }

    private static int WriteVarint(uint value, Span<byte> destination)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    private static string ReadString(ReadOnlySpan<byte> source, ref int offset, Utf8StringPool? strings)
    {
        uint length = 0;
        int shift = 0;
        while (true)
        {
            if (offset >= source.Length || shift > 28)
            {
                throw new FormatException("Truncated string length in click event.");
            }
            byte b = source[offset++];
            length |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
            shift += 7;
        }
        if (length > MaxStringBytes || length > (uint)(source.Length - offset))
        {
            throw new FormatException($"String of {length} bytes does not fit in the click event.");
        }
        var bytes = source.Slice(offset, (int)length);
        string value = strings is null ? Encoding.UTF8.GetString(bytes) : strings.Get(bytes);
        offset += (int)length;
        return value;
    }
}
