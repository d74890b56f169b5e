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

    private TableClaimStore Store(HttpPipelinePolicy? fault = null, Action<TableClaimOptions>? configure = null, TimeProvider? clock = null)
    {
        var clientOptions = new TableClientOptions();
        clientOptions.Retry.MaxRetries = 0; // the store's own retry is under test
        if (fault is not null)
        {
            clientOptions.AddPolicy(fault, HttpPipelinePosition.PerRetry);
        }
        var options = new TableClaimOptions { TableServiceUri = azurite.TableEndpoint, TablePrefix = _prefix, InitialBackoff = TimeSpan.FromMilliseconds(10) };
        configure?.Invoke(options);
        return new TableClaimStore(azurite.Tables(clientOptions), Options.Create(options), clock ?? TestClicks.Clock(), NullLogger<TableClaimStore>.Instance);
    }

    private static ClaimRequest Request(string impression, string partition, long sequence, DateTimeOffset? at = null) =>
        new(ClickId.FromImpression("adv-1", "ad-1", impression), at ?? TestClicks.Noon, partition, sequence);

    private static Task<IReadOnlyList<ClaimOutcome>> Claim(TableClaimStore store, params ClaimRequest[] requests) =>
        store.ClaimAsync(requests, TestContext.Current.CancellationToken);

    [Fact]
    public async Task A_first_claim_is_stored_in_the_table_of_its_span_with_the_event_that_made_it()
    {
        var store = Store();
        var request = Request("i1", "3", 42);
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, request));

        // Spans of two days from 0001-01-01: 2026-11-29 starts one.
        Assert.Equal(_prefix + "2026112900", store.PrimaryTable(request.ClickTime));
        var table = azurite.Tables().GetTableClient(_prefix + "2026112900");
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
    public async Task A_click_is_looked_up_only_in_its_own_span_with_point_reads_and_never_with_a_filter()
    {
        // Azure Table design guide ("Design for querying"): "Using an 'or' to specify a filter based on RowKey values
        // results in a partition scan"; a point query (PartitionKey and RowKey) is the most efficient lookup.
        // https://learn.microsoft.com/azure/storage/tables/table-storage-design-for-query
        var recorder = new RequestRecorder();
        var store = Store(recorder);
        var spanEnd = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var late = Enumerable.Range(0, 30).Select(i => Request($"late{i}", "0", i, spanEnd.AddMinutes(-30))).ToArray();
        Assert.All(await Claim(store, late), o => Assert.Equal(ClaimOutcome.Claimed, o));

        recorder.Clear();
        // 30 repeats in the next span (within the horizon) plus 70 new clicks there: one lookup table, 30 point reads.
        var repeats = late.Select((r, i) => r with { ClickTime = spanEnd.AddMinutes(30), SequenceNumber = 1000 + i }).ToArray();
        var fresh = Enumerable.Range(0, 70).Select(i => Request($"new{i}", "1", i, spanEnd.AddMinutes(30))).ToArray();
        var outcomes = await Claim(store, [.. repeats, .. fresh]);
        Assert.Equal([.. Enumerable.Repeat(ClaimOutcome.Duplicate, 30), .. Enumerable.Repeat(ClaimOutcome.Claimed, 70)], outcomes);

        // (the table service's own /Tables list, used to find expired tables, is not an entity query)
        var entityRequests = recorder.Requests.Where(r => !r.Path.EndsWith("/Tables", StringComparison.Ordinal) && !r.Path.Contains("/Tables(", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(entityRequests, r => r.Query.Contains("filter", StringComparison.OrdinalIgnoreCase));
        var reads = entityRequests.Where(r => r.Method == "GET").ToList();
        Assert.Equal(30, reads.Count);
        Assert.All(reads, r => Assert.Matches(@"/" + _prefix + @"2026120100\(PartitionKey='[0-9a-f]',RowKey='[0-9a-f]{32}'\)$", r.Path));
        // Every write is a batch transaction (no single-entity requests), to the repeat's own span or the next one.
        Assert.All(entityRequests.Where(r => r.Method != "GET"), r => Assert.EndsWith("/$batch", r.Path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tables_whose_span_ended_longer_ago_than_the_retention_are_dropped_by_the_store()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestClicks.Noon);
        var store = Store(clock: clock);
        await Claim(store, Request("old", "0", 1, TestClicks.Noon));
        string oldTable = store.PrimaryTable(TestClicks.Noon);
        Assert.Contains(oldTable, await TablesAsync());

        // Two days later the span has ended, but it is kept for Claims:RetainAfter (3 days) after that.
        clock.Advance(TimeSpan.FromDays(2));
        await Claim(store, Request("mid", "0", 2, clock.GetUtcNow()));
        Assert.Contains(oldTable, await TablesAsync());
        Assert.Equal([ClaimOutcome.ClaimedBefore], await Claim(store, Request("old", "0", 1, TestClicks.Noon)));

        // Past span end + retention: the next new table the store opens sweeps it away; nothing brings it back.
        clock.Advance(TimeSpan.FromDays(4));
        await Claim(store, Request("new", "0", 3, clock.GetUtcNow()));
        var tables = await TablesAsync();
        Assert.DoesNotContain(oldTable, tables);
        Assert.Contains(store.PrimaryTable(clock.GetUtcNow()), tables);
        Assert.Equal([ClaimOutcome.Claimed], await Claim(store, Request("old", "0", 1, TestClicks.Noon)));
        Assert.DoesNotContain(oldTable, await TablesAsync());
    }

    private async Task<List<string>> TablesAsync()
    {
        var tables = new List<string>();
        await foreach (var t in azurite.Tables().QueryAsync(t => t.Name.CompareTo(_prefix) >= 0, cancellationToken: TestContext.Current.CancellationToken))
        {
            if (t.Name.StartsWith(_prefix, StringComparison.Ordinal))
            {
                tables.Add(t.Name);
            }
        }
        return tables;
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

/// <summary>Records every request the Table client sends (method, path, query), after its own retries.</summary>
public sealed class RequestRecorder : HttpPipelinePolicy
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Method, string Path, string Query)> _requests = new();

    public IReadOnlyList<(string Method, string Path, string Query)> Requests => [.. _requests];

    public void Clear() => _requests.Clear();

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        return ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        ProcessNext(message, pipeline);
    }

    private void Record(HttpMessage message)
    {
        var uri = message.Request.Uri.ToUri();
        _requests.Enqueue((message.Request.Method.ToString(), Uri.UnescapeDataString(uri.AbsolutePath), Uri.UnescapeDataString(uri.Query)));
    }
}
