using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace ClickFunctions.Clicks;

/// <summary>The key that fingerprints clicks of one UTC day (docs/wire-format.md, Privacy).</summary>
public interface IFingerprintKeys
{
    /// <summary>The key for the UTC day of <paramref name="timestamp"/>; throws <see cref="IOException"/> if it cannot be made durable.</summary>
    byte[] KeyFor(DateTimeOffset timestamp);
}

/// <summary>
/// Day keys derived from one permanent master secret: <c>HMAC-SHA256(master, "cf-fp-day\n" + yyyy-MM-dd)</c>. Every
/// instance computes the same keys with nothing to share but the secret (the Azure app's many instances), at a
/// cost: whoever holds the secret can recompute every day's key, so fingerprints stay linkable to full IPs for as
/// long as the secret exists. The local host uses random day keys instead.
/// </summary>
public sealed class DerivedFingerprintKeys : IFingerprintKeys
{
    private readonly byte[] _masterSecret;
    private DayKey? _dayKey;

    public DerivedFingerprintKeys(byte[] masterSecret)
    {
        ArgumentNullException.ThrowIfNull(masterSecret);
        if (masterSecret.Length < 16)
        {
            throw new ArgumentException("The fingerprint secret must be at least 128 bits.", nameof(masterSecret));
        }
        _masterSecret = masterSecret.ToArray();
    }

    public byte[] KeyFor(DateTimeOffset timestamp)
    {
        var day = DateOnly.FromDateTime(timestamp.UtcDateTime);
        var current = _dayKey;
        if (current is not null && current.Day == day)
        {
            return current.Key;
        }
        var key = HMACSHA256.HashData(_masterSecret, Encoding.UTF8.GetBytes("cf-fp-day\n" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        _dayKey = new DayKey(day, key);
        return key;
    }

    private sealed record DayKey(DateOnly Day, byte[] Key);
}

/// <summary>
/// Hashes IP + user agent under the key of the click's UTC day: <c>HMAC-SHA256(day key, ip + "\n" + user agent)</c>,
/// first 16 bytes. The same user on the same day hashes the same (so double clicks meet); across days the hashes do
/// not link. The raw IP never leaves this method.
/// </summary>
public sealed class FingerprintHasher(IFingerprintKeys keys)
{
    /// <summary>With keys derived from a master secret (<see cref="DerivedFingerprintKeys"/>).</summary>
    public FingerprintHasher(byte[] masterSecret)
        : this(new DerivedFingerprintKeys(masterSecret))
    {
    }

    public Fingerprint Compute(IPAddress? ip, string? userAgent, DateTimeOffset timestamp)
    {
        var key = keys.KeyFor(timestamp);
        return Compute(key, ip, userAgent);
    }

    /// <summary>The fingerprint under a given key: what anyone holding that key can recompute.</summary>
    public static Fingerprint Compute(byte[] key, IPAddress? ip, string? userAgent)
    {
        string material = (ip?.ToString() ?? "") + "\n" + (userAgent ?? "");
        Span<byte> digest = stackalloc byte[32];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(material), digest);
        return Fingerprint.Read(digest);
    }
}
