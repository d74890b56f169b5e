using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ClickFunctions.Clicks;

/// <summary>
/// A click's identity: 128 bits derived only from what the click carries, so a double click and a redelivered
/// event produce the same id (docs/architecture.md, invariant 3). Written as 32 lowercase hex digits.
/// </summary>
public readonly record struct ClickId(UInt128 Value)
{
    public const int Size = 16;

    /// <summary>From the impression id: one impression yields at most one counted click per ad.</summary>
    public static ClickId FromImpression(string advertiserId, string adId, string impressionId) =>
        Hash($"cf-click-v1\nimp\n{advertiserId}\n{adId}\n{impressionId}");

    /// <summary>Without an impression id: same ad, same user fingerprint, same UTC minute = same click.</summary>
    public static ClickId FromFingerprint(string adId, Fingerprint fingerprint, DateTimeOffset timestamp)
    {
        long minute = timestamp.ToUnixTimeSeconds() / 60;
        return Hash(string.Create(CultureInfo.InvariantCulture, $"cf-click-v1\nfp\n{adId}\n{fingerprint}\n{minute}"));
    }

    private static ClickId Hash(string canonical)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(canonical), digest);
        return Read(digest);
    }

    public static ClickId Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt128BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, Value);

    public static bool TryParse(string? text, out ClickId id)
    {
        id = default;
        if (text is null || text.Length != 32 || !UInt128.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }
        id = new ClickId(value);
        return true;
    }

    public override string ToString() => Value.ToString("x32", CultureInfo.InvariantCulture);
}
