using System.Runtime.InteropServices;
using System.Text;

namespace ClickFunctions.Clicks;

/// <summary>
/// Reuses one string per distinct short ASCII value while decoding (ad, advertiser and campaign ids and dimension
/// values repeat across events), so decoding allocates per distinct value instead of per event. Bounded: once it
/// holds <see cref="MaxStrings"/> values it starts again from empty, so a stream of ever new values (referrer hosts,
/// sub-ids) cannot grow it without limit. Not thread-safe: one batch at a time (the aggregation step keeps its pools
/// across batches and gives each batch running at once a pool of its own, decision 097).
/// </summary>
/// <remarks>
/// Decision 102: looked up by the UTF-8 bytes themselves, in an open-addressing table of (hash, length, first 16
/// bytes, string) slots: the bytes are hashed with <see cref="HashCode"/> (seeded per process, so values sent to
/// collide cannot be chosen in advance) and a value of up to 16 bytes is compared with the bytes in its slot (longer
/// ones with the pooled string as ASCII), instead of being widened to UTF-16 to look up a <see cref="HashSet{T}"/>
/// (a bucket, an entry and the string: three places in memory instead of one).
/// </remarks>
public sealed class Utf8StringPool
{
    private const int MaxPooledLength = 128;
    private const int InitialSlots = 1 << 10;
    private const int PackedBytes = 16;

    /// <summary>
    /// Values kept before the pool starts again: 131,072 short strings, about 8 MiB with the table's slots, more than
    /// the distinct ids and dimension values of 100,000 active ads.
    /// </summary>
    public const int MaxStrings = 1 << 17;

    private Slot[] _slots = new Slot[InitialSlots]; // a power of two, at most half full
    private int _count;

    /// <summary>How many values the pool holds.</summary>
    public int Count => _count;

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length == 0)
        {
            return "";
        }
        if (utf8.Length > MaxPooledLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }
        int hash = Hash(utf8);
        var (low, high) = Pack(utf8);
        var slots = _slots;
        int mask = slots.Length - 1;
        int i = hash & mask;
        while (slots[i].Value is { } pooled)
        {
            // A value of up to 16 bytes is compared by the bytes kept in its slot (the string itself is not read);
            // a longer one with the pooled string as ASCII. Only ASCII values are pooled and Ascii.Equals is false
            // for non-ASCII bytes, so either way a match is the same value.
            ref readonly var slot = ref slots[i];
            if (slot.Hash == hash && slot.Length == utf8.Length && (utf8.Length <= PackedBytes ? slot.Low == low && slot.High == high : Ascii.Equals(utf8, pooled)))
            {
                return pooled;
            }
            i = (i + 1) & mask;
        }
        if (!Ascii.IsValid(utf8))
        {
            return Encoding.UTF8.GetString(utf8);
        }
        if (_count >= MaxStrings)
        {
            Array.Clear(_slots);
            _count = 0;
        }
        else if ((_count + 1) * 2 > slots.Length)
        {
            Grow();
        }
        string value = Encoding.ASCII.GetString(utf8);
        Insert(_slots, new Slot(hash, utf8.Length, low, high, value));
        _count++;
        return value;
    }

    private static int Hash(ReadOnlySpan<byte> utf8)
    {
        var hash = new HashCode();
        hash.AddBytes(utf8);
        return hash.ToHashCode();
    }

    /// <summary>The first <see cref="PackedBytes"/> bytes, zero-padded, as two words.</summary>
    private static (ulong Low, ulong High) Pack(ReadOnlySpan<byte> utf8)
    {
        Span<ulong> words = [0, 0];
        utf8[..Math.Min(utf8.Length, PackedBytes)].CopyTo(MemoryMarshal.AsBytes(words));
        return (words[0], words[1]);
    }

    private static void Insert(Slot[] slots, Slot slot)
    {
        int mask = slots.Length - 1;
        int i = slot.Hash & mask;
        while (slots[i].Value is not null)
        {
            i = (i + 1) & mask;
        }
        slots[i] = slot;
    }

    private void Grow()
    {
        var grown = new Slot[_slots.Length * 2];
        foreach (var slot in _slots)
        {
            if (slot.Value is not null)
            {
                Insert(grown, slot);
            }
        }
        _slots = grown;
    }

    private readonly record struct Slot(int Hash, int Length, ulong Low, ulong High, string? Value);
}
