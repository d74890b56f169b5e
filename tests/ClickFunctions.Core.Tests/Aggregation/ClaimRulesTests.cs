using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;

namespace ClickFunctions.Tests.Aggregation;

public class ClaimRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private static readonly ClaimRequest Request = new(new ClickId(1), T0, "2", 10);

    [Fact]
    public void An_unclaimed_id_is_claimed() =>
        Assert.Equal(ClaimOutcome.Claimed, ClaimRules.Decide(null, Request, TimeSpan.FromHours(24)));

    [Fact]
    public void The_event_that_made_the_claim_is_claimed_before_not_a_duplicate() =>
        Assert.Equal(ClaimOutcome.ClaimedBefore, ClaimRules.Decide(new Claim(T0, "2", 10), Request, TimeSpan.FromHours(24)));

    [Fact]
    public void Another_event_within_the_horizon_is_a_duplicate_even_with_the_same_sequence_in_another_partition() =>
        Assert.Equal(ClaimOutcome.Duplicate, ClaimRules.Decide(new Claim(T0.AddHours(-23), "1", 10), Request, TimeSpan.FromHours(24)));

    [Fact]
    public void A_claim_ends_one_horizon_after_the_claimed_click() =>
        Assert.Equal(ClaimOutcome.Claimed, ClaimRules.Decide(new Claim(T0.AddHours(-24), "1", 3), Request, TimeSpan.FromHours(24)));
}
