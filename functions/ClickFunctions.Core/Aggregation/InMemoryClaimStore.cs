using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Aggregation;

/// <summary>
/// A claim store in memory, applying the one <see cref="ClaimRules"/> every claim store applies: the reconciler's
/// recount (fresh for every run), tests, benchmarks, and the reference behaviour of <see cref="IClaimStore"/>.
/// Keeps the latest claim per click id, so a rebuilt store can be given the claims it lost. Not thread-safe: one
/// aggregation step at a time.
/// </summary>
public sealed class InMemoryClaimStore(TimeSpan horizon) : IClaimStore
{
    private readonly Dictionary<ClickId, Claim> _claims = [];

    public int Count => _claims.Count;

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

    /// <summary>Forgets claims whose horizon ended before <paramref name="now"/>.</summary>
    public int Purge(DateTimeOffset now)
    {
        int removed = 0;
        foreach (var (id, claim) in _claims)
        {
            if (claim.ClickTime + horizon <= now && _claims.Remove(id))
            {
                removed++;
            }
        }
        return removed;
    }
}
