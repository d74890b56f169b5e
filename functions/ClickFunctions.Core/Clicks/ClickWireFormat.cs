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
/// Version 2 (what <see cref="Encode(ClickEvent)"/> writes) is version 1 with byte 0 = 2, followed by the
/// <see cref="ClickDimensions"/>: device, os and browser as one byte each (index into the code lists), country as two
/// ASCII letters (two zero bytes for <c>unknown</c>), then four strings: publisher, placement, creative, sub id.
/// Decoders read both; they reject unknown versions, unknown reasons or codes, short or trailing bytes with
/// <see cref="FormatException"/>.
/// </summary>
public static class ClickWireFormat
{
    public const byte Version1 = 1;

    /// <summary>Version 1 plus the breakdown dimensions (issue 14).</summary>
    public const byte Version2 = 2;

    /// <summary>The version <see cref="Encode(ClickEvent)"/> writes.</summary>
    public const byte CurrentVersion = Version2;

    private const int FixedSize = 42;
    private const int DimensionBytes = 5;
    private const int MaxStringBytes = 1024;

    public static int MaxSize(ClickEvent click)
    {
        ArgumentNullException.ThrowIfNull(click);
        var d = click.Dimensions;
        return FixedSize + DimensionBytes + 9 * 5 + Encoding.UTF8.GetMaxByteCount(
            click.AdId.Length + click.AdvertiserId.Length + click.CampaignId.Length + click.ReferrerHost.Length + click.TruncatedIp.Length
            + d.Publisher.Length + d.Placement.Length + d.Creative.Length + d.SubId.Length);
    }

    /// <summary>Encodes in the <see cref="CurrentVersion"/>.</summary>
    public static byte[] Encode(ClickEvent click) => Encode(click, CurrentVersion);

    /// <summary>Encodes in <paramref name="version"/> (1 drops the dimensions: kept for tests of mixed logs).</summary>
    public static byte[] Encode(ClickEvent click, byte version)
    {
        var buffer = new byte[MaxSize(click)];
        int written = Encode(click, buffer, version);
        return buffer.AsSpan(0, written).ToArray();
    }

    /// <summary>Writes the event into <paramref name="destination"/> (at least <see cref="MaxSize"/> bytes) and returns the length.</summary>
    public static int Encode(ClickEvent click, Span<byte> destination) => Encode(click, destination, CurrentVersion);

    public static int Encode(ClickEvent click, Span<byte> destination, byte version)
    {
        ArgumentNullException.ThrowIfNull(click);
        if (version is not (Version1 or Version2))
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, "Only click wire format versions 1 and 2 can be written.");
        }
        destination[0] = version;
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
        if (version == Version1)
        {
            return offset;
        }
        var d = click.Dimensions;
        destination[offset++] = Code(ClickDimensions.Devices, d.Device, "device");
        destination[offset++] = Code(ClickDimensions.OperatingSystems, d.Os, "os");
        destination[offset++] = Code(ClickDimensions.Browsers, d.Browser, "browser");
        if (!ClickDimensions.IsValidCountry(d.Country))
        {
            throw new ArgumentException($"Country '{d.Country}' is neither 'unknown' nor two upper-case letters.", nameof(click));
        }
        destination[offset++] = d.Country == ClickDimensions.UnknownCountry ? (byte)0 : (byte)d.Country[0];
        destination[offset++] = d.Country == ClickDimensions.UnknownCountry ? (byte)0 : (byte)d.Country[1];
        offset += WriteString(d.Publisher, destination[offset..]);
        offset += WriteString(d.Placement, destination[offset..]);
        offset += WriteString(d.Creative, destination[offset..]);
        offset += WriteString(d.SubId, destination[offset..]);
        return offset;
    }

    public static ClickEvent Decode(ReadOnlySpan<byte> source) => Decode(source, null);

    /// <summary>Decodes, taking repeated strings from <paramref name="strings"/> (a pool of the aggregation step's).</summary>
    public static ClickEvent Decode(ReadOnlySpan<byte> source, Utf8StringPool? strings)
    {
        bool hasDimensions = Decode(source, strings, out var click, withIp: true);
        return click.ToClickEvent(hasDimensions);
    }

    /// <summary>
    /// Decodes into <paramref name="click"/> without allocating an event (the aggregation step, decision 097); true
    /// when the event carried dimensions (version 2), else its dimension fields are <see cref="ClickDimensions.Unknown"/>'s.
    /// Without <paramref name="withIp"/> the truncated IP is checked like every string but not made into one (it stays
    /// null): the step counts nothing by it, and one distinct value per network would only churn the string pool.
    /// </summary>
    internal static bool Decode(ReadOnlySpan<byte> source, Utf8StringPool? strings, out DecodedClick click, bool withIp)
    {
        if (source.Length < FixedSize)
        {
            throw new FormatException($"A click event needs at least {FixedSize} bytes; got {source.Length}.");
        }
        byte version = source[0];
        if (version is not (Version1 or Version2))
        {
            throw new FormatException($"Unknown click wire format version {version}: this reader knows versions {Version1} and {Version2}.");
        }
        if (!ClickReasons.IsDefined(source[1]))
        {
            throw new FormatException($"Unknown click reason {source[1]}.");
        }
        click = default;
        click.Reason = (ClickReason)source[1];
        click.ClickId = ClickId.Read(source[2..]);
        long millis = BinaryPrimitives.ReadInt64LittleEndian(source[18..]);
        if (millis < 0 || millis > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new FormatException($"Timestamp {millis} is out of range.");
        }
        click.Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(millis);
        click.Fingerprint = Fingerprint.Read(source[26..]);
        int offset = FixedSize;
        click.AdId = ReadString(source, ref offset, strings);
        click.AdvertiserId = ReadString(source, ref offset, strings);
        click.CampaignId = ReadString(source, ref offset, strings);
        click.ReferrerHost = ReadString(source, ref offset, strings);
        click.TruncatedIp = ReadString(source, ref offset, strings, withIp);
        if (version == Version2)
        {
            if (source.Length - offset < DimensionBytes)
            {
                throw new FormatException("Truncated dimensions in a version 2 click event.");
            }
            click.Device = ReadCode(ClickDimensions.Devices, source[offset++], "device");
            click.Os = ReadCode(ClickDimensions.OperatingSystems, source[offset++], "os");
            click.Browser = ReadCode(ClickDimensions.Browsers, source[offset++], "browser");
            click.Country = ReadCountry(source[offset], source[offset + 1]);
            offset += 2;
            click.Publisher = ReadString(source, ref offset, strings);
            click.Placement = ReadString(source, ref offset, strings);
            click.Creative = ReadString(source, ref offset, strings);
            click.SubId = ReadString(source, ref offset, strings);
        }
        else
        {
            var unknown = ClickDimensions.Unknown;
            (click.Country, click.Device, click.Os, click.Browser) = (unknown.Country, unknown.Device, unknown.Os, unknown.Browser);
            (click.Publisher, click.Placement, click.Creative, click.SubId) = (unknown.Publisher, unknown.Placement, unknown.Creative, unknown.SubId);
        }
        if (offset != source.Length)
        {
            throw new FormatException($"{source.Length - offset} trailing bytes after the click event.");
        }
        if (click.AdId.Length == 0 || click.AdvertiserId.Length == 0)
        {
            throw new FormatException("A click event needs an ad id and an advertiser id.");
        }
        return version == Version2;
    }

    private static byte Code(IReadOnlyList<string> codes, string value, string dimension)
    {
        for (int i = 0; i < codes.Count; i++)
        {
            if (string.Equals(codes[i], value, StringComparison.Ordinal))
            {
                return (byte)i;
            }
        }
        throw new ArgumentException($"'{value}' is not a {dimension} code.", nameof(value));
    }

    private static string ReadCode(IReadOnlyList<string> codes, byte value, string dimension) =>
        value < codes.Count ? codes[value] : throw new FormatException($"Unknown {dimension} code {value}.");

    private static readonly string[] Countries = BuildCountries();

    private static string[] BuildCountries()
    {
        var all = new string[26 * 26];
        for (int i = 0; i < all.Length; i++)
        {
            all[i] = string.Concat((char)('A' + i / 26), (char)('A' + i % 26));
        }
        return all;
    }

    private static string ReadCountry(byte first, byte second)
    {
        if (first == 0 && second == 0)
        {
            return ClickDimensions.UnknownCountry;
        }
        if (first is < (byte)'A' or > (byte)'Z' || second is < (byte)'A' or > (byte)'Z')
        {
            throw new FormatException($"Country bytes {first},{second} are neither two upper-case letters nor unknown.");
        }
        return Countries[(first - 'A') * 26 + (second - 'A')];
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

    private static string ReadString(ReadOnlySpan<byte> source, ref int offset, Utf8StringPool? strings) => ReadString(source, ref offset, strings, true)!;

    private static string? ReadString(ReadOnlySpan<byte> source, ref int offset, Utf8StringPool? strings, bool materialize)
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
        string? value = !materialize ? null : strings is null ? Encoding.UTF8.GetString(bytes) : strings.Get(bytes);
        offset += (int)length;
        return value;
    }
}
