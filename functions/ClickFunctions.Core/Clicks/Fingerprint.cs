using System.Buffers.Binary;
using System.Globalization;

namespace ClickFunctions.Clicks;

/// <summary>A keyed hash of IP + user agent (128 bits). The key rotates daily, see <see cref="FingerprintHasher"/>.</summary>
public readonly record struct Fingerprint(UInt128 Value)
{
    public const int Size = 16;

    public static Fingerprint Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt128BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, Value);

    public override string ToString() => Value.ToString("x32", CultureInfo.InvariantCulture);
}
