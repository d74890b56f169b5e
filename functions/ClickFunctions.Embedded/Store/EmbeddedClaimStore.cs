using System.Runtime.InteropServices;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// The embedded claim store: every claim within the horizon in memory (loaded from the store at start), so a
/// lookup never touches the disk. Claims made by a step are pending until the consumer has committed them with
/// the batch (<see cref="CommitPending"/>); if the commit fails they are dropped (<see cref="DiscardPending"/>), so
/// memory never holds a claim the store lost. Used by the consumer's single loop only.
/// </summary>
/// <remarks>
/// Decision 102: committed and pending claims are one dictionary, so a claim is one lookup-or-insert and a commit
/// writes nothing again; each pending claim notes what it replaced (in order), so a discard puts that back.
/// </remarks>
public sealed class EmbeddedClaimStore(TimeSpan horizon) : IClaimStore
{
    private readonly Dictionary<ClickId, Claim> _claims = []; // committed, overwritten or added by pending claims
    private readonly List<NewClaim> _pendingList = [];
    private readonly List<Claim?> _replaced = []; // per pending claim, in order: the claim it replaced, if any
    private int _pendingAdded; // pending claims of ids with no claim before

    public TimeSpan Horizon => horizon;

    /// <summary>Committed claims.</summary>
    public int Count => _claims.Count - _pendingAdded;

    /// <summary>Claims made since the last commit or discard, to write with the batch.</summary>
    public IReadOnlyList<NewClaim> Pending => _pendingList;

    public void Load(IEnumerable<NewClaim> claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        foreach (var (id, claim) in claims)
        {
            int pending = _pendingList.Count == 0 ? -1 : _pendingList.FindIndex(c => c.ClickId == id);
            if (pending < 0)
            {
                _claims[id] = claim;
                continue;
            }
            // A pending claim of this id is newer: the loaded one is the committed claim it replaced.
            if (_replaced[pending] is null)
            {
                _pendingAdded--;
            }
            _replaced[pending] = claim;
        }
    }

    public ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken)
    {
        var input = requests.Span;
        var output = outcomes.Span;
        for (int i = 0; i < input.Length; i++)
        {
            ref readonly var request = ref input[i];
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_claims, request.ClickId, out bool exists);
            Claim? existing = exists ? slot : null;
            var outcome = ClaimRules.Decide(existing, request, horizon); // no claim yet: always Claimed, so no empty slot stays
            if (outcome == ClaimOutcome.Claimed)
            {
                slot = new Claim(request.ClickTime, request.Partition, request.SequenceNumber);
                _pendingList.Add(new NewClaim(request.ClickId, slot));
                _replaced.Add(existing);
                if (!exists)
                {
                    _pendingAdded++;
                }
            }
            output[i] = outcome;
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>The pending claims are committed: they are in the dictionary already, so this only forgets what they replaced.</summary>
    public void CommitPending()
    {
        _pendingList.Clear();
        _replaced.Clear();
        _pendingAdded = 0;
    }

    /// <summary>Drops the pending claims: each replaced claim back, latest first, and each new id removed.</summary>
    public void DiscardPending()
    {
        for (int i = _pendingList.Count - 1; i >= 0; i--)
        {
            var id = _pendingList[i].ClickId;
            if (_replaced[i] is { } before)
            {
                _claims[id] = before;
            }
            else
            {
                _claims.Remove(id);
            }
        }
        CommitPending();
    }

    /// <summary>Forgets committed claims of clicks before <paramref name="clickTimeBefore"/> (the store deletes the same ones).</summary>
    /// <remarks>Pending claims stay; a committed claim one of them replaced is forgotten too, if it is that old.</remarks>
    public int Purge(DateTimeOffset clickTimeBefore)
    {
        int removed = 0;
        HashSet<ClickId>? pending = _pendingList.Count > 0 ? [.. _pendingList.Select(c => c.ClickId)] : null;
        foreach (var (id, claim) in _claims)
        {
            if (pending?.Contains(id) != true && claim.ClickTime < clickTimeBefore && _claims.Remove(id))
            {
                removed++;
            }
        }
        if (pending is not null)
        {
            var first = new HashSet<ClickId>();
            for (int i = 0; i < _pendingList.Count; i++)
            {
                // The first pending claim of an id replaced its committed claim (later ones replaced pending claims).
                if (first.Add(_pendingList[i].ClickId) && _replaced[i] is { } committed && committed.ClickTime < clickTimeBefore)
                {
                    _replaced[i] = null;
                    _pendingAdded++;
                    removed++;
                }
            }
        }
        return removed;
    }
}
