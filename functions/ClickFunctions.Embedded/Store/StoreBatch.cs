using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;

namespace ClickFunctions.Embedded.Store;

/// <summary>A new claim, to be written with the batch that made it.</summary>
public readonly record struct NewClaim(ClickId ClickId, Claim Claim);

/// <summary>
/// Everything one consumer step commits in one transaction: the minute buckets (rolled up into hour and day too),
/// the claims it made, its dead letters, and the log positions after the batch.
/// </summary>
public sealed record StoreBatch(
    IReadOnlyDictionary<BucketKey, BucketCounts> Buckets,
    IReadOnlyList<NewClaim> Claims,
    IReadOnlyList<DeadLetter> DeadLetters,
    IReadOnlyDictionary<int, long> Positions);
