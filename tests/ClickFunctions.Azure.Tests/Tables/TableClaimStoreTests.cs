using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using ClickFunctions.Azure.Tables;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tests.Tables;

/// <summary>Claims against a real Azurite Table service.</summary>
public sealed class TableClaimStoreTests(Azurite azurite)
{
    private readonly string _prefix = "c" + Guid.NewGuid().ToString("N")[..12];

    private TableClaimStore Store(HttpPipelinePolicy? fault = null, Action<TableClaimOptions>? configure = null)
    {
        var clientOptions = new TableClientOptions();
        clientOptions.Retry.MaxRetries = 0; // the store's own retry is under test
        if (fault is not null)
        {
            clientOptions.AddPolicy(fault, HttpPipelinePosition.PerRetry);
        }
        var options = new TableClaimOptions { TableServiceUri = azurite.TableEndpoint, TablePrefix = _prefix, InitialBackoff = TimeSpan.FromMilliseconds(10) };
        configure?.Invoke(options);
        return new TableClaimStore(azurite.Tables(clientOptions), Options.Create(options), TimeProvider.System, NullLogger<TableClaimStore>.Instance);
    }

    private static ClaimRequest Request(string impression, string partition, long sequence, DateTimeOffset? at = null) =>
        new(ClickId.FromImpression("adv-1", "ad-1", impression), at ?? TestClicks.Noon, partition, sequence);

    private static Task<IReadOnlyList<ClaimOutcome>> Claim(TableClaimStore store, params ClaimRequest[] requests) =>
        store.ClaimAsync(requests, TestContext.Current.CancellationToken);

    [Fact]
    public async Task A_first_claim_is_stored_in_the_day_table_with_the_event_that_made_it()
    {
        var store = Store();
        var request = Request("i1", "3", 42);
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, request));

        var table = azurite.Tables().GetTableClient(_prefix + "20261129");
        string id = request.ClickId.ToString();
        var entity = (await table.GetEntityAsync<TableEntity>(id[..1], id, cancellationToken: TestContext.Current.CancellationToken)).Value;
        Assert.Equal("3", entity.GetString("EventHubPartition"));
        Assert.Equal(42, entity.GetInt64("SequenceNumber"));
    }

    [Fact]
    public async Task A_redelivered_event_finds_its_own_claim_and_is_not_a_duplicate()
    {
        var store = Store();
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, Request("i1", "0", 7)));
        Assert.Equal([ClaimOutcome.ClaimedBefore], await Claim(store, Request("i1", "0", 7)));
    }

    [Fact]
    public async Task Another_event_with_the_same_click_id_is_a_duplicate()
    {
        var store = Store();
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, Request("i1", "0", 7)));
        Assert.Equal([ClaimOutcome.Duplicate], await Claim(store, Request("i1", "0", 8)));
        Assert.Equal([ClaimOutcome.Duplicate], await Claim(store, Request("i1", "1", 7)));
    }

    [Fact]
    public async Task The_same_click_id_twice_in_one_batch_counts_once()
    {
        var store = Store();
        Assert.Equal([ClaimOutcome.Claimed, ClaimOutcome.Duplicate], await Claim(store, Request("i1", "0", 1), Request("i1", "0", 2)));
    }

    [Fact]
    public async Task A_large_batch_over_one_partition_key_is_split_into_transactions_of_100_and_existing_claims_are_resolved_each()
    {
        var store = Store();
        // 150 click ids whose partition key (first hex digit) is the same: two transactions.
        var sameKey = Enumerable.Range(0, 5000).Select(i => Request($"k{i}", "0", i)).Where(r => r.ClickId.ToString()[0] == 'a').Take(150).ToArray();
        Assert.Equal(150, sameKey.Length);
        var earlier = sameKey.Where((_, i) => i % 10 == 0).ToArray(); // 15 claimed before, by the same events
        var stolen = sameKey.Where((_, i) => i % 10 == 5).Select(r => r with { SequenceNumber = r.SequenceNumber + 100_000 }).ToArray(); // 15 claimed by other events
        await Claim(store, [.. earlier, .. stolen]);

        var outcomes = await Claim(store, sameKey);
        for (int i = 0; i < sameKey.Length; i++)
        {
            var expected = i % 10 == 0 ? ClaimOutcome.ClaimedBefore : i % 10 == 5 ? ClaimOutcome.Duplicate : ClaimOutcome.Claimed;
            Assert.Equal(expected, outcomes[i]);
        }
    }

    [Fact]
    public async Task Claims_live_in_one_table_per_UTC_day_and_a_click_claimed_yesterday_within_the_horizon_is_a_duplicate_today()
    {
        var store = Store();
        var lateYesterday = new DateTimeOffset(2026, 11, 28, 23, 59, 0, TimeSpan.Zero);
        var earlyToday = new DateTimeOffset(2026, 11, 29, 0, 1, 0, TimeSpan.Zero);
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, Request("night", "0", 1, lateYesterday)));
        Assert.Equal([ClaimOutcome.Duplicate], await Claim(store, Request("night", "0", 2, earlyToday)));
        Assert.Equal([ClaimOutcome.ClaimedBefore], await Claim(store, Request("night", "0", 1, lateYesterday)));

        var tables = new List<string>();
        await foreach (var t in azurite.Tables().QueryAsync(t => t.Name.CompareTo(_prefix) >= 0, cancellationToken: TestContext.Current.CancellationToken))
        {
            if (t.Name.StartsWith(_prefix, StringComparison.Ordinal))
            {
                tables.Add(t.Name);
            }
        }
        Assert.Equal([_prefix + "20261128"], tables); // the duplicate was recognised without writing today's table
    }

    [Fact]
    public async Task A_claim_whose_answer_was_lost_after_it_committed_is_recognised_as_its_own_on_retry()
    {
        var fault = new LoseResponseAfterCommit(LoseResponseAfterCommit.IsTableBatch);
        var store = Store(fault);
        var requests = new[] { Request("t1", "2", 10), Request("t2", "2", 11) };
        var outcomes = await Claim(store, requests);
        Assert.Equal(1, fault.Fired);
        Assert.All(outcomes, o => Assert.NotEqual(ClaimOutcome.Duplicate, o)); // counted once, not lost as a "duplicate"
        Assert.Equal([ClaimOutcome.ClaimedBefore, ClaimOutcome.ClaimedBefore], await Claim(Store(), requests));
        Assert.Equal([ClaimOutcome.Duplicate], await Claim(Store(), Request("t1", "2", 99)));
    }

    [Fact]
    public async Task Server_busy_answers_are_retried_with_backoff()
    {
        var store = Store(new ServerBusy(LoseResponseAfterCommit.IsTableBatch, times: 2));
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, Request("busy", "0", 1)));
    }

    [Fact]
    public async Task Server_busy_beyond_the_attempt_limit_fails_the_claim_instead_of_guessing()
    {
        var store = Store(new ServerBusy(LoseResponseAfterCommit.IsTableBatch, times: 100), o => o.MaxAttempts = 3);
        await Assert.ThrowsAnyAsync<Exception>(() => Claim(store, Request("down", "0", 1)));
    }
}
