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
/// Decision 102: looked up by the UTF-8 bytes themselves, in an open-addressing table of (hash, string) slots: the
/// bytes are hashed with <see cref="HashCode"/> (seeded per process, so values sent to collide cannot be chosen in
/// advance) and compared with the pooled string as ASCII, instead of being widened to UTF-16 to look up a
/// <see cref="HashSet{T}"/> (a bucket, an entry and the string: three places in memory instead of two).
/// </remarks>
public sealed class Utf8StringPool
{
    private const int MaxPooledLength = 128;
    private const int InitialSlots = 1 << 10;

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
        var slots = _slots;
        int mask = slots.Length - 1;
        int i = hash & mask;
        while (slots[i].Value is { } pooled)
        {
            // Only ASCII values are pooled, and Ascii.Equals is false for non-ASCII bytes: a match is the same value.
            if (slots[i].Hash == hash && pooled.Length == utf8.Length && Ascii.Equals(utf8, pooled))
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
        Insert(_slots, hash, value);
        _count++;
        return value;
    }

    private static int Hash(ReadOnlySpan<byte> utf8)
    {
        var hash = new HashCode();
        hash.AddBytes(utf8);
        return hash.ToHashCode();
    }

    private static void Insert(Slot[] slots, int hash, string value)
    {
        int mask = slots.Length - 1;
        int i = hash & mask;
        while (slots[i].Value is not null)
        {
            i = (i + 1) & mask;
        }
        slots[i] = new Slot(hash, value);
    }

    private void Grow()
    {
        var grown = new Slot[_slots.Length * 2];
        foreach (var slot in _slots)
        {
            if (slot.Value is not null)
            {
                Insert(grown, slot.Hash, slot.Value);
            }
        }
        _slots = grown;
    }

    private readonly record struct Slot(int Hash, string? Value);
}
