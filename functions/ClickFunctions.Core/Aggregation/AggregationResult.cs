using System.Collections.Concurrent;
using ClickFunctions.Ports;

namespace ClickFunctions.Aggregation;

/// <summary>A raw event that could not be aggregated, with why. It is set aside (dead-lettered), never retried forever.</summary>
public sealed record DeadLetter(RawEvent Event, string Reason);

/// <summary>What one aggregation step produced from one batch of raw events.</summary>
/// <remarks>
/// Decision 102: a result made by <see cref="AggregationStep"/> counts into buckets the step keeps for reuse.
/// <see cref="Dispose"/> hands them back for the step's next batches (which empty them as they reuse them); a host disposes the result once the
/// buckets are stored and reads nothing of it afterwards (<see cref="Buckets"/> then throws). A result never disposed
/// is simply collected, as before.
/// </remarks>
public sealed class AggregationResult : IDisposable
{
    private readonly Dictionary<BucketKey, BucketCounts> _buckets;
    private BucketArena? _arena;
    private bool _disposed;

    public AggregationResult(int bucketCapacity = 0) => _buckets = new(bucketCapacity);

    internal AggregationResult(BucketArena arena)
    {
        _arena = arena;
        _buckets = arena.Buckets;
    }

    /// <summary>The batch's per-minute buckets; valid until <see cref="Dispose"/>.</summary>
    public Dictionary<BucketKey, BucketCounts> Buckets => _disposed ? throw new ObjectDisposedException(nameof(AggregationResult), "The result's buckets went back to the step for its next batch.") : _buckets;

    public List<DeadLetter> DeadLetters { get; } = [];

    public int Events { get; set; }

    public int Duplicates { get; set; }

    public int Redelivered { get; set; }

    /// <summary>Hands the buckets back to the step that counted them, for its next batches. Idempotent.</summary>
    public void Dispose()
    {
        _disposed = true;
        Interlocked.Exchange(ref _arena, null)?.Return();
    }
}

/// <summary>
/// What a step's batch counts into, kept across batches (decision 102): the bucket dictionary (its capacity) and
/// the buckets of earlier batches, to be emptied and reused. One result uses it at a time: it is taken from the step's bag for a batch
/// and goes back when that batch's result is disposed, so batches running at once each count into their own.
/// </summary>
internal sealed class BucketArena(ConcurrentBag<BucketArena> home)
{
    /// <summary>Empty buckets kept at most (about 500 B each with their dimension entries).</summary>
    internal const int MaxSpare = 1 << 16;

    private readonly Stack<BucketCounts> _spare = new();

    public Dictionary<BucketKey, BucketCounts> Buckets { get; } = [];

    /// <summary>
    /// An empty bucket: one of an earlier batch if there is one, emptied now, just before it is counted into (its
    /// memory is touched once, not once when handed back and again when reused).
    /// </summary>
    public BucketCounts Rent()
    {
        if (_spare.TryPop(out var counts))
        {
            counts.Reset();
            return counts;
        }
        return new BucketCounts();
    }

    /// <summary>Keeps the buckets (up to <see cref="MaxSpare"/>, emptied when rented) and goes back to the step.</summary>
    public void Return()
    {
        foreach (var counts in Buckets.Values)
        {
            if (_spare.Count == MaxSpare)
            {
                break;
            }
            _spare.Push(counts);
        }
        Buckets.Clear();
        home.Add(this);
    }
}
