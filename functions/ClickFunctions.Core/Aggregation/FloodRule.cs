using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ClickFunctions.Clicks;

namespace ClickFunctions.Aggregation;

/// <summary>
/// Click flooding (issue 14, decision 072): one fingerprint may make at most <see cref="MaxClicks"/> counted clicks on
/// one ad within one flood window (<see cref="Window"/>, aligned to the Unix epoch); the clicks past that are invalid
/// with reason <c>click_flooding</c>. Decided in the aggregation step through the claim store: the window of
/// (ad, fingerprint) has <see cref="MaxClicks"/> slots, each a claim id of its own, and a counted click takes the
/// lowest free one, in partition order; a click that finds every slot held by other events is flooding. So the same
/// events in the same order give the same reasons, however they are batched, and the recount (a fresh claim store
/// over the same raw files) reproduces them.
/// </summary>
public sealed record FloodRule(int MaxClicks, TimeSpan Window)
{
    /// <summary>No flood detection (the default).</summary>
    public static FloodRule Off { get; } = new(0, TimeSpan.FromMinutes(1));

    public bool Enabled => MaxClicks > 0;

    /// <summary>The start of the flood window <paramref name="time"/> falls in.</summary>
    public DateTimeOffset WindowStart(DateTimeOffset time)
    {
        long ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return DateTimeOffset.UnixEpoch.AddTicks(ticks - (ticks % Window.Ticks));
    }

    /// <summary>The claim id of slot <paramref name="slot"/> (1-based) of (ad, fingerprint) in the window starting at <paramref name="windowStart"/>.</summary>
    public static ClickId SlotId(string adId, Fingerprint fingerprint, DateTimeOffset windowStart, int slot)
    {
        // "cf-flood-v1\n" + ad + "\n" + fingerprint (16 bytes) + window start (Unix ms, 8 bytes LE) + slot (4 bytes LE):
        // a prefix no click id's preimage has, so a slot never collides with a click.
        int adBytes = Encoding.UTF8.GetByteCount(adId);
        var input = new byte[12 + adBytes + 1 + 16 + 8 + 4];
        "cf-flood-v1\n"u8.CopyTo(input);
        Encoding.UTF8.GetBytes(adId, input.AsSpan(12));
        int offset = 12 + adBytes;
        input[offset++] = (byte)'\n';
        fingerprint.Write(input.AsSpan(offset));
        offset += 16;
        BinaryPrimitives.WriteInt64LittleEndian(input.AsSpan(offset), windowStart.ToUnixTimeMilliseconds());
        offset += 8;
        BinaryPrimitives.WriteInt32LittleEndian(input.AsSpan(offset), slot);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return ClickId.Read(hash);
    }
}
