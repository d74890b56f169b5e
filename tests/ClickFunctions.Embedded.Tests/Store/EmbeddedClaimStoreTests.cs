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
}
