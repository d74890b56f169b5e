using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;

namespace ClickFunctions.Benchmarks.Baseline;

/// <summary>
/// The embedded host's claim store of main at f744966, for the baseline step only: committed and pending claims in
/// two dictionaries, a claim looked up in both, a commit writing each pending claim into the committed dictionary.
/// </summary>
public sealed class BaselineClaimStore(TimeSpan horizon) : IClaimStore
{
    private readonly Dictionary<ClickId, Claim> _committed = [];
    private readonly Dictionary<ClickId, Claim> _pending = [];
    private readonly List<NewClaim> _pendingList = [];

    public TimeSpan Horizon => horizon;

    public int Count => _committed.Count;

    /// <summary>Claims made since the last commit or discard, to write with the batch.</summary>
    public IReadOnlyList<NewClaim> Pending => _pendingList;

    public ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken)
    {
        var input = requests.Span;
        var output = outcomes.Span;
        for (int i = 0; i < input.Length; i++)
        {
            ref readonly var request = ref input[i];
            Claim? existing = _pending.TryGetValue(request.ClickId, out var pending) ? pending
                : _committed.TryGetValue(request.ClickId, out var committed) ? committed
                : null;
            var outcome = ClaimRules.Decide(existing, request, horizon);
            if (outcome == ClaimOutcome.Claimed)
            {
                var claim = new Claim(request.ClickTime, request.Partition, request.SequenceNumber);
                _pending[request.ClickId] = claim;
                _pendingList.Add(new NewClaim(request.ClickId, claim));
            }
            output[i] = outcome;
        }
        return ValueTask.CompletedTask;
    }

    public void CommitPending()
    {
        foreach (var (id, claim) in _pendingList)
        {
            _committed[id] = claim;
        }
        DiscardPending();
    }

    public void DiscardPending()
    {
        _pending.Clear();
        _pendingList.Clear();
    }

    /// <summary>Forgets claims of clicks before <paramref name="clickTimeBefore"/> (the store deletes the same ones).</summary>
    public int Purge(DateTimeOffset clickTimeBefore)
    {
        int removed = 0;
        foreach (var (id, claim) in _committed)
        {
            if (claim.ClickTime < clickTimeBefore && _committed.Remove(id))
            {
                removed++;
            }
        }
        return removed;
    }
}
