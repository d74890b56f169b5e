using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace ClickFunctions.Clicks;

/// <summary>
/// Hashes IP + user agent with a key that changes every UTC day: HMAC-SHA256(master, "cf-fp-day\n" + yyyy-MM-dd).
/// The same user on the same day hashes the same (so double clicks meet); across days the hashes do not link,
/// and without the master secret nobody can recompute them. The raw IP never leaves this method.
/// </summary>
public sealed class FingerprintHasher
{
    private readonly byte[] _masterSecret;
    private DayKey? _dayKey;

    public FingerprintHasher(byte[] masterSecret)
    {
        ArgumentNullException.ThrowIfNull(masterSecret);
        if (masterSecret.Length < 16)
        {
            throw new ArgumentException("The fingerprint secret must be at least 128 bits.", nameof(masterSecret));
        }
        _masterSecret = masterSecret.ToArray();
    }

    public Fingerprint Compute(IPAddress? ip, string? userAgent, DateTimeOffset timestamp)
    {
        var key = KeyFor(DateOnly.FromDateTime(timestamp.UtcDateTime));
        string material = (ip?.ToString() ?? "") + "\n" + (userAgent ?? "");
        Span<byte> digest = stackalloc byte[32];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(material), digest);
        return Fingerprint.Read(digest);
    }

    private byte[] KeyFor(DateOnly day)
    {
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
