using System.Text;

namespace ClickFunctions.Clicks;

/// <summary>
/// Reuses one string per distinct short ASCII value while decoding (ad, advertiser and campaign ids and dimension
/// values repeat across events), so decoding allocates per distinct value instead of per event. Bounded: once it
/// holds <see cref="MaxStrings"/> values it starts again from empty, so a stream of ever new values (referrer hosts,
/// sub-ids) cannot grow it without limit. Not thread-safe: one batch at a time (the aggregation step keeps its pools
/// across batches and gives each batch running at once a pool of its own, decision 097).
/// </summary>
public sealed class Utf8StringPool
{
    private const int MaxPooledLength = 128;

    /// <summary>
    /// Values kept before the pool starts again: 131,072 short strings, about 8 MiB with the set's entries, more than
    /// the distinct ids and dimension values of 100,000 active ads.
    /// </summary>
    public const int MaxStrings = 1 << 17;

    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public Utf8StringPool() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>How many values the pool holds.</summary>
    public int Count => _strings.Count;

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length == 0)
        {
            return "";
        }
        if (utf8.Length > MaxPooledLength || !System.Text.Ascii.IsValid(utf8))
        {
            return Encoding.UTF8.GetString(utf8);
        }
        Span<char> chars = stackalloc char[utf8.Length];
        System.Text.Ascii.ToUtf16(utf8, chars, out int written);
        if (_lookup.TryGetValue(chars[..written], out var existing))
        {
            return existing;
        }
        if (_strings.Count >= MaxStrings)
        {
            _strings.Clear();
        }
        string value = new(chars[..written]);
        _strings.Add(value);
        return value;
    }
}
