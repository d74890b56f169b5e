using System.Collections;

namespace ClickFunctions.Aggregation;

/// <summary>One dimension value's counts inside a minute bucket, as <see cref="DimensionCountCollection"/> hands them out.</summary>
public readonly record struct DimensionClicks(long Clicks, long InvalidClicks);

/// <summary>
/// A bucket's clicks by (dimension, value): what <see cref="BucketCounts.Dimensions"/> holds. One array of entries
/// per bucket instead of a dictionary and an object per value (decision 097): the first
/// <see cref="DimensionCodes.Count"/> entries are the first value of each dimension, and further values of a
/// dimension are chained from there. A bucket holds few values per dimension (one, for clicks without breakdown
/// fields), so a lookup is a short walk comparing references first (the step's decoded strings are pooled).
/// Enumerates each (dimension, value) once: the first value of each dimension in dimension order, then the further
/// values in the order they came.
/// </summary>
public sealed class DimensionCountCollection : IReadOnlyCollection<KeyValuePair<(ClickDimension Dimension, string Value), DimensionClicks>>
{
    private static readonly int Heads = DimensionCodes.Count;

    private Entry[] _entries = new Entry[Heads];
    private int _length = Heads; // entries in use or reserved (the heads are always reserved)
    private int _count;

    /// <summary>How many distinct (dimension, value) pairs are counted.</summary>
    public int Count => _count;

    /// <summary>Adds <paramref name="clicks"/> valid and <paramref name="invalidClicks"/> invalid clicks to (dimension, value).</summary>
    public void Add(ClickDimension dimension, string value, long clicks, long invalidClicks)
    {
        ArgumentNullException.ThrowIfNull(value);
        int d = (int)dimension;
        if ((uint)d >= (uint)Heads)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Not a known dimension.");
        }
        ref var entry = ref _entries[d];
        if (entry.Value is null)
        {
            entry.Value = value;
            entry.Dimension = dimension;
            _count++;
        }
        else
        {
            int i = d;
            while (!ReferenceEquals(_entries[i].Value, value) && !string.Equals(_entries[i].Value, value, StringComparison.Ordinal))
            {
                int next = _entries[i].Next;
                if (next == 0) // 0 is a head, never a chained entry: the end of the chain
                {
                    next = Append(dimension, value);
                    _entries[i].Next = next;
                    i = next;
                    break;
                }
                i = next;
            }
            entry = ref _entries[i];
        }
        entry.Clicks += clicks;
        entry.InvalidClicks += invalidClicks;
    }

    /// <summary>The counts of (dimension, value), or false when the bucket counted no click with it.</summary>
    public bool TryGetValue((ClickDimension Dimension, string Value) key, out DimensionClicks counts)
    {
        int d = (int)key.Dimension;
        if ((uint)d < (uint)Heads && _entries[d].Value is not null)
        {
            for (int i = d; ; i = _entries[i].Next)
            {
                if (string.Equals(_entries[i].Value, key.Value, StringComparison.Ordinal))
                {
                    counts = new DimensionClicks(_entries[i].Clicks, _entries[i].InvalidClicks);
                    return true;
                }
                if (_entries[i].Next == 0)
                {
                    break;
                }
            }
        }
        counts = default;
        return false;
    }

    /// <summary>Forgets every value, keeping the entry array (what <see cref="BucketCounts.Reset"/> reuses).</summary>
    internal void Clear()
    {
        Array.Clear(_entries, 0, _length);
        _length = Heads;
        _count = 0;
    }

    private int Append(ClickDimension dimension, string value)
    {
        if (_length == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }
        int index = _length++;
        _entries[index] = new Entry { Value = value, Dimension = dimension };
        _count++;
        return index;
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<(ClickDimension Dimension, string Value), DimensionClicks>> IEnumerable<KeyValuePair<(ClickDimension Dimension, string Value), DimensionClicks>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Walks the entries without allocating (a struct enumerator for <c>foreach</c>).</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<(ClickDimension Dimension, string Value), DimensionClicks>>
    {
        private readonly DimensionCountCollection _owner;
        private int _index;

        internal Enumerator(DimensionCountCollection owner)
        {
            _owner = owner;
            _index = -1;
        }

        public readonly KeyValuePair<(ClickDimension Dimension, string Value), DimensionClicks> Current
        {
            get
            {
                ref readonly var entry = ref _owner._entries[_index];
                return new((entry.Dimension, entry.Value!), new DimensionClicks(entry.Clicks, entry.InvalidClicks));
            }
        }

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            while (++_index < _owner._length)
            {
                if (_owner._entries[_index].Value is not null) // a head of a dimension nothing was counted in
                {
                    return true;
                }
            }
            return false;
        }

        public void Reset() => _index = -1;

        public readonly void Dispose()
        {
        }
    }

    private struct Entry
    {
        public string? Value;
        public long Clicks;
        public long InvalidClicks;
        public int Next;
        public ClickDimension Dimension;
    }
}
