using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;

namespace ClickFunctions.Tests.Store;

public class EmbeddedClaimStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

    private static ClaimOutcome Claim(EmbeddedClaimStore store, ulong id, long sequence, DateTimeOffset? at = null)
    {
        var outcomes = new ClaimOutcome[1];
        store.ClaimAsync(new[] { new ClaimRequest(new ClickId(id), at ?? T0, "0", sequence) }, outcomes, TestContext.Current.CancellationToken).AsTask().Wait();
        return outcomes[0];
    }

    [Fact]
    public void A_pending_claim_dedups_the_rest_of_its_batch_and_is_forgotten_if_the_batch_is_not_committed()
    {
        var store = new EmbeddedClaimStore(TimeSpan.FromHours(24));
        Assert.Equal(ClaimOutcome.Claimed, Claim(store, 1, 0));
        Assert.Equal(ClaimOutcome.Duplicate, Claim(store, 1, 1));
        Assert.Single(store.Pending);

        store.DiscardPending();

        Assert.Equal(ClaimOutcome.Claimed, Claim(store, 1, 0));
    }

    [Fact]
    public void A_committed_claim_outlives_later_discards_until_it_is_purged()
    {
        var store = new EmbeddedClaimStore(TimeSpan.FromHours(24));
        Claim(store, 1, 0);
        store.CommitPending();
        store.DiscardPending();

        Assert.Equal(ClaimOutcome.Duplicate, Claim(store, 1, 5, T0.AddHours(1)));
        Assert.Equal(ClaimOutcome.ClaimedBefore, Claim(store, 1, 0));
        store.DiscardPending();
        Assert.Equal(1, store.Purge(T0.AddSeconds(1)));
        Assert.Equal(ClaimOutcome.Claimed, Claim(store, 1, 5, T0.AddHours(1)));
    }

    [Fact]
    public void Loaded_claims_count_as_committed()
    {
        var store = new EmbeddedClaimStore(TimeSpan.FromHours(24));
        store.Load([new NewClaim(new ClickId(3), new Claim(T0, "2", 9))]);

        Assert.Equal(ClaimOutcome.Duplicate, Claim(store, 3, 0));
    }

    [Fact]
    public void A_discarded_claim_puts_back_the_expired_claim_it_replaced_and_a_new_id_leaves_nothing()
    {
        var store = new EmbeddedClaimStore(TimeSpan.FromHours(24));
        Claim(store, 1, 0);
        store.CommitPending();

        Assert.Equal(ClaimOutcome.Claimed, Claim(store, 1, 5, T0.AddHours(25))); // past the horizon: claims afresh
        Assert.Equal(ClaimOutcome.Claimed, Claim(store, 2, 6));
        Assert.Equal(1, store.Count);
        Assert.Equal(2, store.Pending.Count);
        store.DiscardPending();

        Assert.Equal(1, store.Count);
        Assert.Equal(ClaimOutcome.ClaimedBefore, Claim(store, 1, 0)); // the committed claim is back
        Assert.Equal(ClaimOutcome.Claimed, Claim(store, 2, 6)); // and id 2 was forgotten
    }

    [Fact]
    public void Purging_with_claims_pending_forgets_old_committed_claims_and_keeps_the_pending_ones()
    {
        foreach (bool commit in (bool[])[true, false])
        {
            var store = new EmbeddedClaimStore(TimeSpan.FromHours(24));
            Claim(store, 1, 0);
            Claim(store, 3, 1, T0.AddHours(2));
            store.CommitPending();
            Claim(store, 1, 5, T0.AddHours(25)); // pending, replacing the committed claim of T0
            Claim(store, 2, 6, T0.AddHours(25)); // pending, a new id

            Assert.Equal(1, store.Purge(T0.AddHours(1))); // the committed claim of id 1; id 3 is newer
            Assert.Equal(1, store.Count);
            if (commit)
            {
                store.CommitPending();
                Assert.Equal(3, store.Count);
                Assert.Equal(ClaimOutcome.Duplicate, Claim(store, 1, 9, T0.AddHours(26)));
                Assert.Equal(ClaimOutcome.ClaimedBefore, Claim(store, 2, 6, T0.AddHours(25)));
            }
            else
            {
                store.DiscardPending();
                Assert.Equal(1, store.Count);
                Assert.Equal(ClaimOutcome.Claimed, Claim(store, 1, 9, T0.AddHours(2))); // purged, not put back
                Assert.Equal(ClaimOutcome.Claimed, Claim(store, 2, 6, T0.AddHours(25)));
            }
            Assert.Equal(ClaimOutcome.ClaimedBefore, Claim(store, 3, 1, T0.AddHours(2)));
        }
    }

    [Fact]
    public void A_claim_loaded_while_one_is_pending_is_what_a_discard_puts_back()
    {
        var store = new EmbeddedClaimStore(TimeSpan.FromHours(24));
        Assert.Equal(ClaimOutcome.Claimed, Claim(store, 4, 0));
        store.Load([new NewClaim(new ClickId(4), new Claim(T0, "2", 9))]);
        Assert.Equal(1, store.Count);

        store.DiscardPending();

        Assert.Equal(1, store.Count);
        Assert.Equal(ClaimOutcome.Duplicate, Claim(store, 4, 0));
    }
}
