using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Reconciliation;

/// <summary>
/// The recount's claim store: in memory, fresh for every run, applying the one <see cref="ClaimRules"/> every live
/// claim store applies. Keeps the latest claim per click id, so a rebuilt store can be given the claims it lost.
/// </summary>
public sealed class RecountClaims(TimeSpan horizon) : IClaimStore
{
    private readonly Dictionary<ClickId, Claim> _claims = [];

    public IReadOnlyDictionary<ClickId, Claim> Claims => _claims;

    public ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken)
    {
        var input = requests.Span;
        var output = outcomes.Span;
        for (int i = 0; i < input.Length; i++)
        {
            ref readonly var request = ref input[i];
            Claim? existing = _claims.TryGetValue(request.ClickId, out var claim) ? claim : null;
            var outcome = ClaimRules.Decide(existing, request, horizon);
            if (outcome == ClaimOutcome.Claimed)
            {
                _claims[request.ClickId] = new Claim(request.ClickTime, request.Partition, request.SequenceNumber);
            }
            output[i] = outcome;
        }
        return ValueTask.CompletedTask;
    }
}
