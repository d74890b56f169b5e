using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tables;

/// <summary>
/// Click-id claims in Table Storage, for exactly-once counting over an at-least-once trigger, with point operations
/// only (docs/decisions/060-claims-with-point-operations.md):
/// <list type="bullet">
/// <item>Time is cut into spans of <see cref="TableClaimOptions.TableSpan"/>, one table each. A click is looked up in
/// exactly one table, the one of its own span (<see cref="PrimaryTable"/>); no other table is ever read.</item>
/// <item>So that this one table knows every claim that can still make the click a duplicate, a claim is also
/// written to each other span its horizon (and the reorder tolerance before it) reaches (<see cref="CopyTables"/>).</item>
/// <item>Partition key = the first hex digits of the click id (a hash: evenly spread whatever the ads' skew);
/// row key = the click id. Writes go in batch transactions of up to 100 entities of one partition key.</item>
/// <item>A claim is an insert. When it meets 409 (the id exists in that table) the store makes one point read
/// (partition key + row key) and <see cref="ClaimRules"/> decides from the existing claim: the same event is a
/// redelivery, another event within the horizon a duplicate, one past the horizon a new claim (replacing the old
/// one, conditional on its ETag).</item>
/// <item>Tables whose span ended more than <see cref="TableClaimOptions.RetainAfter"/> ago are dropped by the store
/// (<see cref="DropExpiredTablesAsync"/>, run whenever it starts using a table).</item>
/// <item>500/503 and timeouts are retried with exponential backoff; the 409 rule makes the retry safe.</item>
/// </list>
/// Claims of one click id must not be made concurrently by two callers (the aggregator's partitioning sends
/// duplicates to one partition, processed in order); within one call, repeats of an id are decided in order.
/// </summary>
public sealed partial class TableClaimStore(TableServiceClient service, IOptions<TableClaimOptions> options, TimeProvider time, ILogger<TableClaimStore> logger) : IClaimStore
{
    public const int MaxTransactionSize = 100;
    private const string PartitionProperty = "EventHubPartition";
    private const string SequenceProperty = "SequenceNumber";
    private const string ClickTimeProperty = "ClickTime";
    private const string NameFormat = "yyyyMMddHH";
    private static readonly string[] ClaimProperties = [PartitionProperty, SequenceProperty, ClickTimeProperty];

    private readonly TableServiceClient _service = service;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private readonly TableClaimOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Task> _createdTables = new(StringComparer.Ordinal);

    public async ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken)
    {
        var result = await ClaimAsync(requests.ToArray(), cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < result.Count; i++)
        {
            outcomes.Span[i] = result[i];
        }
    }

    /// <summary>The span index of a click time: whole <see cref="TableClaimOptions.TableSpan"/>s since 0001-01-01 UTC.</summary>
    public long Span(DateTimeOffset clickTime) => clickTime.UtcTicks / _options.TableSpan.Ticks;

    public DateTimeOffset SpanStart(long span) => new(span * _options.TableSpan.Ticks, TimeSpan.Zero);

    public string TableName(long span) => _options.TablePrefix + SpanStart(span).ToString(NameFormat, CultureInfo.InvariantCulture);

    /// <summary>The one table a click is looked up in: its own span's.</summary>
    public string PrimaryTable(DateTimeOffset clickTime) => TableName(Span(clickTime));

    /// <summary>
    /// The other tables a claim of <paramref name="clickTime"/> is written to: every span that a later click within
    /// the horizon, or an earlier one within the reorder tolerance, can fall in.
    /// </summary>
    public IEnumerable<string> CopyTables(DateTimeOffset clickTime)
    {
        long own = Span(clickTime);
        long first = Span(clickTime - _options.ReorderTolerance);
        long last = Span(clickTime + _options.DedupHorizon - TimeSpan.FromTicks(1));
        for (long span = first; span <= last; span++)
        {
            if (span != own && !IsExpired(span))
            {
                yield return TableName(span);
            }
        }
    }

    public string PartitionKey(ClickId id) => id.ToString()[.._options.PartitionKeyDigits];

    /// <summary>Claims every click id; the outcome at index i belongs to request i.</summary>
    public async Task<IReadOnlyList<ClaimOutcome>> ClaimAsync(IReadOnlyList<ClaimRequest> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var outcomes = new ClaimOutcome[requests.Count];
        // Rounds of distinct ids: the n-th request of a click id in this call goes in round n, after the earlier ones
        // have been decided, exactly as if the calls had been made one after another.
        var seen = new Dictionary<ClickId, int>();
        var rounds = new List<List<int>>();
        for (int i = 0; i < requests.Count; i++)
        {
            int round = seen.TryGetValue(requests[i].ClickId, out int n) ? n + 1 : 0;
            seen[requests[i].ClickId] = round;
            if (round == rounds.Count)
            {
                rounds.Add([]);
            }
            rounds[round].Add(i);
        }
        foreach (var round in rounds)
        {
            await ClaimRoundAsync(requests, round, outcomes, cancellationToken).ConfigureAwait(false);
        }
        return outcomes;
    }

    private async Task ClaimRoundAsync(IReadOnlyList<ClaimRequest> requests, List<int> round, ClaimOutcome[] outcomes, CancellationToken cancellationToken)
    {
        var live = new List<int>(round.Count);
        foreach (int i in round)
        {
            if (IsExpired(Span(requests[i].ClickTime)))
            {
                // Older than any claim still kept: nothing can be checked, and its table must not come back.
                Log.ExpiredClaim(_logger, requests[i].ClickTime, requests[i].Partition, requests[i].SequenceNumber);
                outcomes[i] = ClaimOutcome.Claimed;
            }
            else
            {
                live.Add(i);
            }
        }

        // 1. The insert in the click's own table decides (with one point read on conflict).
        var work = new List<Task>();
        foreach (var group in live.GroupBy(i => (Table: PrimaryTable(requests[i].ClickTime), Key: PartitionKey(requests[i].ClickId))))
        {
            foreach (var chunk in group.Chunk(MaxTransactionSize))
            {
                work.Add(InsertChunkAsync(group.Key.Table, group.Key.Key, requests, [.. chunk], outcomes, cancellationToken));
            }
        }
        await Task.WhenAll(work).ConfigureAwait(false);

        // 2. The claim (new, or a redelivery's, which may have been cut short before its copies) goes to the other spans.
        work.Clear();
        var copies = live
            .Where(i => outcomes[i] != ClaimOutcome.Duplicate)
            .SelectMany(i => CopyTables(requests[i].ClickTime).Select(table => (Table: table, Index: i)))
            .GroupBy(c => (c.Table, Key: PartitionKey(requests[c.Index].ClickId)), c => c.Index);
        foreach (var group in copies)
        {
            foreach (var chunk in group.Chunk(MaxTransactionSize))
            {
                work.Add(UpsertChunkAsync(group.Key.Table, group.Key.Key, requests, chunk, cancellationToken));
            }
        }
        await Task.WhenAll(work).ConfigureAwait(false);
    }

    private async Task InsertChunkAsync(string tableName, string partitionKey, IReadOnlyList<ClaimRequest> requests, List<int> chunk, ClaimOutcome[] outcomes, CancellationToken cancellationToken)
    {
        var table = await EnsureTableAsync(tableName, cancellationToken).ConfigureAwait(false);
        var remaining = chunk;
        int attempt = 0;
        while (remaining.Count > 0)
        {
            try
            {
                var actions = remaining.Select(i => new TableTransactionAction(TableTransactionActionType.Add, ToEntity(partitionKey, requests[i]))).ToList();
                await table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
                foreach (int i in remaining)
                {
                    outcomes[i] = ClaimOutcome.Claimed;
                }
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 409 && ex.FailedTransactionActionIndex is int failed && failed < remaining.Count)
            {
                // The transaction names the one entity that exists: decide it, send the rest again.
                int index = remaining[failed];
                outcomes[index] = await ResolveConflictAsync(table, partitionKey, requests[index], cancellationToken).ConfigureAwait(false);
                remaining = [.. remaining.Where((_, n) => n != failed)];
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 409 && remaining.Count > 1)
            {
                // No index given: fall back to one transaction per entity, each deciding its own conflict.
                foreach (int i in remaining)
                {
                    await InsertChunkAsync(tableName, partitionKey, requests, [i], outcomes, cancellationToken).ConfigureAwait(false);
                }
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 409)
            {
                outcomes[remaining[0]] = await ResolveConflictAsync(table, partitionKey, requests[remaining[0]], cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && ++attempt < _options.MaxAttempts)
            {
                await BackoffAsync(tableName, partitionKey, attempt, ex, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The id exists in <paramref name="table"/>: one point read, and <see cref="ClaimRules"/> decides.</summary>
    private async Task<ClaimOutcome> ResolveConflictAsync(TableClient table, string partitionKey, ClaimRequest request, CancellationToken cancellationToken)
    {
        string rowKey = request.ClickId.ToString();
        int attempt = 0;
        while (true)
        {
            try
            {
                var read = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, ClaimProperties, cancellationToken).ConfigureAwait(false);
                if (!read.HasValue)
                {
                    // Gone between the insert and the read (only a drop does that): insert afresh.
                    await table.AddEntityAsync(ToEntity(partitionKey, request), cancellationToken).ConfigureAwait(false);
                    return ClaimOutcome.Claimed;
                }
                var entity = read.Value!;
                var existing = new Claim(entity.GetDateTimeOffset(ClickTimeProperty) ?? DateTimeOffset.MinValue,
                    entity.GetString(PartitionProperty) ?? "", entity.GetInt64(SequenceProperty) ?? -1);
                var outcome = ClaimRules.Decide(existing, request, _options.DedupHorizon);
                if (outcome == ClaimOutcome.Claimed)
                {
                    // Past the old claim's horizon: this click claims afresh, if nobody replaced the old claim meanwhile.
                    await table.UpdateEntityAsync(ToEntity(partitionKey, request), entity.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                }
                return outcome;
            }
            catch (Exception ex) when ((IsTransient(ex, cancellationToken) || ex is RequestFailedException { Status: 409 or 412 }) && ++attempt < _options.MaxAttempts)
            {
                await BackoffAsync(table.Name, partitionKey, attempt, ex, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes a decided claim to another span's table (insert or replace: the claim is the newest of its id there).</summary>
    private async Task UpsertChunkAsync(string tableName, string partitionKey, IReadOnlyList<ClaimRequest> requests, int[] chunk, CancellationToken cancellationToken)
    {
        var table = await EnsureTableAsync(tableName, cancellationToken).ConfigureAwait(false);
        int attempt = 0;
        while (true)
        {
            try
            {
                var actions = chunk.Select(i => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(partitionKey, requests[i]))).ToList();
                await table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && ++attempt < _options.MaxAttempts)
            {
                await BackoffAsync(tableName, partitionKey, attempt, ex, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static TableEntity ToEntity(string partitionKey, ClaimRequest request) => new(partitionKey, request.ClickId.ToString())
    {
        [PartitionProperty] = request.Partition,
        [SequenceProperty] = request.SequenceNumber,
        [ClickTimeProperty] = request.ClickTime,
    };

    private async Task BackoffAsync(string tableName, string partitionKey, int attempt, Exception ex, CancellationToken cancellationToken)
    {
        double factor = Math.Pow(2, attempt - 1) * (0.8 + Random.Shared.NextDouble() * 0.4);
        var delay = TimeSpan.FromTicks((long)(_options.InitialBackoff.Ticks * factor));
        Log.TransientFailure(_logger, tableName, partitionKey, attempt, delay, ex);
        await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        RequestFailedException rfe => rfe.Status is 0 or 408 or 500 or 503 || rfe.InnerException is IOException or TimeoutException or TaskCanceledException,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        IOException or TimeoutException or HttpRequestException => true,
        AggregateException agg => agg.InnerExceptions.All(e => IsTransient(e, cancellationToken)),
        _ => false,
    };

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Claim request on {Table}/{PartitionKey} failed transiently (attempt {Attempt}); retrying in {Delay}")]
        public static partial void TransientFailure(ILogger logger, string table, string partitionKey, int attempt, TimeSpan delay, Exception exception);

        [LoggerMessage(2, LogLevel.Information, "Dropped claims table {Table}: its span ended longer ago than Claims:RetainAfter")]
        public static partial void TableDropped(ILogger logger, string table);

        [LoggerMessage(3, LogLevel.Warning, "Could not drop expired claims tables of prefix {Prefix}; will try again with the next span")]
        public static partial void DropFailed(ILogger logger, string prefix, Exception exception);

        [LoggerMessage(4, LogLevel.Warning, "Click of {ClickTime} (event {Partition}/{SequenceNumber}) is older than every kept claims table: counted without a claim")]
        public static partial void ExpiredClaim(ILogger logger, DateTimeOffset clickTime, string partition, long sequenceNumber);
    }
}
