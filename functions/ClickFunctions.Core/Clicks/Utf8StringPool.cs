using System.Text;

namespace ClickFunctions.Clicks;

/// <summary>
/// Reuses one string per distinct short ASCII value while decoding a batch (ad, advertiser and campaign ids repeat
/// across events), so decoding allocates per distinct id instead of per event. Not thread-safe: one per batch.
/// </summary>
public sealed class Utf8StringPool
{
    private const int MaxPooledLength = 128;
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public Utf8StringPool() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

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
        string value = new(chars[..written]);
        _strings.Add(value);
        return value;
    }
}
