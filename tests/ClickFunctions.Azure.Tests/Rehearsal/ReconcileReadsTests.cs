using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tests.Kusto;

namespace ClickFunctions.Azure.Tests.Rehearsal;

/// <summary>
/// Issue 11, finding 3: the reconciler's reads of a window that holds more (ad, minute) rows than ADX returns from one
/// query (500,000 records, enforced by the loopback server as the service truncates) come back whole, in bounded
/// queries, through the real <see cref="KustoBucketCorrections"/>; the same rows asked for in one query are truncated
/// and the client refuses the partial answer. The design-scale figure (10M ads, every shard differing) is the
/// rehearsal's reconcile_max_rows (tests/load/azure-rehearsal.sh).
/// </summary>
public sealed class ReconcileReadsTests : IAsyncLifetime
{
    private LoopbackKusto _adx = null!;

    public async ValueTask InitializeAsync() => _adx = await LoopbackKusto.StartAsync();

    public async ValueTask DisposeAsync() => await _adx.DisposeAsync();

    [Fact]
    public async Task A_window_past_the_result_limit_is_read_whole_in_queries_under_it_and_one_query_for_all_of_it_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        var window = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        var model = new ReconcileReadModel(51_000, 10, window); // 510,000 buckets: past the 500,000-record truncation
        _adx.QueryAnswer = model.Answer;
        var options = new KustoOptions();
        var reads = new KustoBucketCorrections(_adx.Client(), options);

        var totals = await reads.ReadShardTotalsAsync(window, window.AddMinutes(10), ct);
        var differing = totals.Totals.ToDictionary(t => t.Key, t => t.Value.Buckets, StringComparer.Ordinal); // every shard differs
        Assert.Equal(model.Buckets, differing.Values.Sum());
        var (buckets, maxRows) = await reads.ReadShardsAsync(window, window.AddMinutes(10), differing, ct);

        Assert.Equal(model.Buckets, buckets.Count);
        Assert.InRange(maxRows, 1, options.MaxRowsPerQuery);
        var answered = _adx.ReturnedRows.ToList();
        Assert.Equal(KustoBucketCorrections.Groups(differing, options.MaxRowsPerQuery).Count + 1, answered.Count);
        Assert.All(answered, rows => Assert.InRange(rows, 0, options.MaxRowsPerQuery));
        Assert.Empty(_adx.Mismatches);

        // The same shards in one query: the server truncates at 500,000 records and the client fails rather than use it.
        var oneQuery = new KustoBucketCorrections(_adx.Client(), new KustoOptions { MaxRowsPerQuery = int.MaxValue });
        var error = await Assert.ThrowsAsync<KustoException>(async () => await oneQuery.ReadShardsAsync(window, window.AddMinutes(10), differing, ct));
        Assert.Contains("record count limit 500000", error.Message, StringComparison.Ordinal);
        Assert.Equal(LoopbackKusto.MaxResultRecords, _adx.ReturnedRows.Last());
    }
}
