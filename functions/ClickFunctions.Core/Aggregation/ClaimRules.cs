using ClickFunctions.Ports;

namespace ClickFunctions.Aggregation;

/// <summary>A claim as claim stores keep it: which event claimed the click id, and the click's own time.</summary>
public readonly record struct Claim(DateTimeOffset ClickTime, string Partition, long SequenceNumber);

/// <summary>The one rule every claim store applies, so the embedded and Azure stores agree on what a duplicate is.</summary>
public static class ClaimRules
{
    /// <summary>
    /// The outcome of <paramref name="request"/> against the existing claim of its click id, if any. A claim lasts
    /// <paramref name="horizon"/> from the claimed click's timestamp: a click at or after that point claims afresh.
    /// </summary>
    public static ClaimOutcome Decide(Claim? existing, in ClaimRequest request, TimeSpan horizon)
    {
        if (existing is not { } claim)
        {
            return ClaimOutcome.Claimed;
        }
        if (claim.SequenceNumber == request.SequenceNumber && string.Equals(claim.Partition, request.Partition, StringComparison.Ordinal))
        {
            return ClaimOutcome.ClaimedBefore;
        }
        return request.ClickTime < claim.ClickTime + horizon ? ClaimOutcome.Duplicate : ClaimOutcome.Claimed;
    }
}
