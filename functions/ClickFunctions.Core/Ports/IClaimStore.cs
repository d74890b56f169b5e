using ClickFunctions.Clicks;

namespace ClickFunctions.Ports;

/// <summary>A request to claim a click id for the event at (<see cref="Partition"/>, <see cref="SequenceNumber"/>).</summary>
public readonly record struct ClaimRequest(ClickId ClickId, DateTimeOffset ClickTime, string Partition, long SequenceNumber);

public enum ClaimOutcome : byte
{
    /// <summary>First claim of this click id within the dedup horizon: the click counts.</summary>
    Claimed,
    /// <summary>Already claimed by this very event (same partition and sequence number): a redelivery, still the original.</summary>
    ClaimedBefore,
    /// <summary>Claimed by another event within the horizon: a duplicate click.</summary>
    Duplicate,
}

/// <summary>
/// Dedup claims. A claim remembers which event made it, so a redelivered event is recognised as itself and not as
/// a duplicate (docs/architecture.md, invariant 4). A claim lasts the dedup horizon from the click's own timestamp.
/// </summary>
public interface IClaimStore
{
    /// <summary>Claims each distinct click id in <paramref name="requests"/>; writes one outcome per request.</summary>
    ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken);
}
