using System.Buffers.Binary;
using System.Text;
using ClickFunctions.Clicks;

namespace ClickFunctions.Benchmarks.Baseline;

/// <summary>
/// The string pool of main at f744966 (decision 097), for the baseline step only: each short ASCII value widened to
/// UTF-16 and looked up in a <see cref="HashSet{T}"/> through its span lookup; bounded the same way.
/// </summary>
public sealed class BaselineUtf8StringPool
{
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public BaselineUtf8StringPool() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length == 0)
        {
            return "";
        }
        if (utf8.Length > 128 || !Ascii.IsValid(utf8))
        {
            return Encoding.UTF8.GetString(utf8);
        }
        Span<char> chars = stackalloc char[utf8.Length];
        Ascii.ToUtf16(utf8, chars, out int written);
        if (_lookup.TryGetValue(chars[..written], out var existing))
        {
            return existing;
        }
        if (_strings.Count >= Utf8StringPool.MaxStrings)
        {
            _strings.Clear();
        }
        string value = new(chars[..written]);
        _strings.Add(value);
        return value;
    }
}

/// <summary>
/// Main's in-place decode at f744966 for the baseline step (the step's call: no truncated IP), reading through the
/// baseline's pool: the same checks, in the same order, as <see cref="ClickWireFormat"/>'s decode then.
/// </summary>
public static class BaselineDecode
{
    private static readonly string[] Countries = [.. Enumerable.Range(0, 26 * 26).Select(i => string.Concat((char)('A' + i / 26), (char)('A' + i % 26)))];

    internal static void Decode(ReadOnlySpan<byte> source, BaselineUtf8StringPool strings, out DecodedClick click)
    {
        if (source.Length < 42)
        {
            throw new FormatException("short");
        }
        byte version = source[0];
        if (version is not (ClickWireFormat.Version1 or ClickWireFormat.Version2))
        {
            throw new FormatException("version");
        }
        if (!ClickReasons.IsDefined(source[1]))
        {
            throw new FormatException("reason");
        }
        click = default;
        click.Reason = (ClickReason)source[1];
        click.ClickId = ClickId.Read(source[2..]);
        long millis = BinaryPrimitives.ReadInt64LittleEndian(source[18..]);
        if (millis < 0 || millis > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new FormatException("timestamp");
        }
        click.Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(millis);
        click.Fingerprint = Fingerprint.Read(source[26..]);
        int offset = 42;
        click.AdId = ReadString(source, ref offset, strings, true)!;
        click.AdvertiserId = ReadString(source, ref offset, strings, true)!;
        click.CampaignId = ReadString(source, ref offset, strings, true)!;
        click.ReferrerHost = ReadString(source, ref offset, strings, true)!;
        click.TruncatedIp = ReadString(source, ref offset, strings, false);
        if (version == ClickWireFormat.Version2)
        {
            if (source.Length - offset < 5)
            {
                throw new FormatException("dimensions");
            }
            click.Device = Code(ClickDimensions.Devices, source[offset++]);
            click.Os = Code(ClickDimensions.OperatingSystems, source[offset++]);
            click.Browser = Code(ClickDimensions.Browsers, source[offset++]);
            click.Country = Country(source[offset], source[offset + 1]);
            offset += 2;
            click.Publisher = ReadString(source, ref offset, strings, true)!;
            click.Placement = ReadString(source, ref offset, strings, true)!;
            click.Creative = ReadString(source, ref offset, strings, true)!;
            click.SubId = ReadString(source, ref offset, strings, true)!;
        }
        else
        {
            var unknown = ClickDimensions.Unknown;
            (click.Country, click.Device, click.Os, click.Browser) = (unknown.Country, unknown.Device, unknown.Os, unknown.Browser);
            (click.Publisher, click.Placement, click.Creative, click.SubId) = (unknown.Publisher, unknown.Placement, unknown.Creative, unknown.SubId);
        }
        if (offset != source.Length || click.AdId.Length == 0 || click.AdvertiserId.Length == 0)
        {
            throw new FormatException("trailing bytes or no ids");
        }
    }

    private static string Code(IReadOnlyList<string> codes, byte value) => value < codes.Count ? codes[value] : throw new FormatException("code");

    private static string Country(byte first, byte second)
    {
        if (first == 0 && second == 0)
        {
            return ClickDimensions.UnknownCountry;
        }
        if (first is < (byte)'A' or > (byte)'Z' || second is < (byte)'A' or > (byte)'Z')
        {
            throw new FormatException("country");
        }
        return Countries[(first - 'A') * 26 + (second - 'A')];
    }

    private static string? ReadString(ReadOnlySpan<byte> source, ref int offset, BaselineUtf8StringPool strings, bool materialize)
    {
        uint length = 0;
        int shift = 0;
        while (true)
        {
            if (offset >= source.Length || shift > 28)
            {
                throw new FormatException("length");
            }
            byte b = source[offset++];
            length |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
            shift += 7;
        }
        if (length > 1024 || length > (uint)(source.Length - offset))
        {
            throw new FormatException("string");
        }
        var bytes = source.Slice(offset, (int)length);
        offset += (int)length;
        return materialize ? strings.Get(bytes) : null;
    }
}
