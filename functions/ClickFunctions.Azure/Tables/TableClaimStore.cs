using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tables;

/// <summary>
/// Click-id claims in Table Storage, for exactly-once counting over an at-least-once trigger.
/// <list type="bullet">
/// <item>One table per UTC day of the click (<c>claims20261129</c>): expiring claims is dropping a table.</item>
/// <item>Partition key = the first hex digits of the click id (already a hash, so evenly spread); row key = the click id.</item>
/// <item>Claims go in batch transactions of up to 100 entities of one partition key.</item>
/// <item>Each claim records the Event Hubs partition and sequence number of the event that made it. When an insert
/// meets 409 (the id exists), the existing entity says whose claim it is: the same event (a redelivery, or a retry
/// after a timeout whose insert did commit) is not a duplicate; any other event is.</item>
/// <item>500/503 and timeouts are retried with exponential backoff; the 409 rule makes the retry safe.</item>
/// </list>
/// </summary>
public sealed partial class TableClaimStore(TableServiceClient service, IOptions<TableClaimOptions> options, TimeProvider time, ILogger<TableClaimStore> logger) : IClaimStore
{
    public async ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken)
    {
        var result = await ClaimAsync(requests.ToArray(), cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < result.Count; i++)
        {
            outcomes.Span[i] = result[i];
        }
    }

    public const int MaxTransactionSize = 100;
    private const int MaxRowKeysPerQuery = 40;

    private readonly TableClaimOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Task> _createdTables = new(StringComparer.Ordinal);

    public string TableName(DateTimeOffset timestamp) =>
        _options.TablePrefix + timestamp.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public string PartitionKey(ClickId id) => id.ToString()[.._options.PartitionKeyDigits];

    /// <summary>Claims every click id; the outcome at index i belongs to request i.</summary>
    public async Task<IReadOnlyList<ClaimOutcome>> ClaimAsync(IReadOnlyList<ClaimRequest> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var outcomes = new ClaimOutcome?[requests.Count];

        // The same id twice in one batch: only the first goes to the store; the others follow it below.
        var firstIndex = new Dictionary<ClickId, int>();
        var toStore = new List<int>();
        for (int i = 0; i < requests.Count; i++)
        {
            if (firstIndex.TryAdd(requests[i].ClickId, i))
            {
                toStore.Add(i);
            }
        }

        await CheckEarlierDaysAsync(requests, toStore, outcomes, cancellationToken).ConfigureAwait(false);

        var groups = toStore
            .Where(i => outcomes[i] is null)
            .GroupBy(i => (Table: TableName(requests[i].ClickTime), Key: PartitionKey(requests[i].ClickId)));
        var work = new List<Task>();
        foreach (var group in groups)
        {
            foreach (var chunk in group.Chunk(MaxTransactionSize))
            {
                work.Add(ClaimChunkAsync(group.Key.Table, group.Key.Key, requests, chunk.ToList(), outcomes, cancellationToken));
            }
        }
        await Task.WhenAll(work).ConfigureAwait(false);

        var result = new ClaimOutcome[requests.Count];
        for (int i = 0; i < requests.Count; i++)
        {
            int first = firstIndex[requests[i].ClickId];
            result[i] = first == i ? outcomes[i]!.Value : ClaimOutcome.Duplicate;
        }
        return result;
    }

    private async Task ClaimChunkAsync(string tableName, string partitionKey, IReadOnlyList<ClaimRequest> requests, List<int> chunk, ClaimOutcome?[] outcomes, CancellationToken cancellationToken)
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
            catch (TableTransactionFailedException ex) when (ex.Status == 409)
            {
                // Some id exists. Read all of this chunk's existing claims in one query and decide each from its owner.
                var left = await ResolveExistingAsync(table, partitionKey, requests, remaining, outcomes, cancellationToken).ConfigureAwait(false);
                if (left.Count == remaining.Count && ++attempt >= _options.MaxAttempts)
                {
                    throw;
                }
                remaining = left;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && ++attempt < _options.MaxAttempts)
            {
                var delay = Backoff(attempt);
                Log.TransientFailure(logger, tableName, partitionKey, attempt, delay, ex);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<List<int>> ResolveExistingAsync(TableClient table, string partitionKey, IReadOnlyList<ClaimRequest> requests, List<int> indexes, ClaimOutcome?[] outcomes, CancellationToken cancellationToken)
    {
        var existing = await ReadClaimsAsync(table, partitionKey, indexes.Select(i => requests[i].ClickId.ToString()), cancellationToken).ConfigureAwait(false);
        var left = new List<int>();
        foreach (int i in indexes)
        {
            if (existing.TryGetValue(requests[i].ClickId.ToString(), out var owner))
            {
                outcomes[i] = Decide(requests[i], owner);
            }
            else
            {
                left.Add(i);
            }
        }
        return left;
    }

    /// <summary>A click id first claimed on an earlier day within the dedup horizon is still a duplicate today.</summary>
    private async Task CheckEarlierDaysAsync(IReadOnlyList<ClaimRequest> requests, List<int> indexes, ClaimOutcome?[] outcomes, CancellationToken cancellationToken)
    {
        if (_options.DedupHorizon <= TimeSpan.Zero)
        {
            return;
        }
        var lookups = new Dictionary<(string Table, string Key), List<int>>();
        foreach (int i in indexes)
        {
            var day = requests[i].ClickTime.UtcDateTime.Date;
            for (var earlier = (requests[i].ClickTime - _options.DedupHorizon).UtcDateTime.Date; earlier < day; earlier = earlier.AddDays(1))
            {
                var key = (TableName(new DateTimeOffset(earlier, TimeSpan.Zero)), PartitionKey(requests[i].ClickId));
                if (!lookups.TryGetValue(key, out var list))
                {
                    lookups[key] = list = [];
                }
                list.Add(i);
            }
        }
        foreach (var ((tableName, partitionKey), list) in lookups)
        {
            var table = service.GetTableClient(tableName);
            Dictionary<string, ClaimOwner> existing;
            try
            {
                existing = await ReadClaimsAsync(table, partitionKey, list.Select(i => requests[i].ClickId.ToString()), cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                continue; // no claims that day (or already expired)
            }
            foreach (int i in list)
            {
                if (outcomes[i] is null && existing.TryGetValue(requests[i].ClickId.ToString(), out var owner))
                {
                    outcomes[i] = Decide(requests[i], owner);
                }
            }
        }
    }

    private async Task<Dictionary<string, ClaimOwner>> ReadClaimsAsync(TableClient table, string partitionKey, IEnumerable<string> rowKeys, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, ClaimOwner>(StringComparer.Ordinal);
        foreach (var chunk in rowKeys.Distinct(StringComparer.Ordinal).Chunk(MaxRowKeysPerQuery))
        {
            string filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}") + " and (" +
                string.Join(" or ", chunk.Select(k => TableClient.CreateQueryFilter($"RowKey eq {k}"))) + ")";
            int attempt = 0;
            while (true)
            {
                try
                {
                    await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["RowKey", PartitionProperty, SequenceProperty], cancellationToken: cancellationToken).ConfigureAwait(false))
                    {
                        found[entity.RowKey] = new ClaimOwner(entity.GetString(PartitionProperty) ?? "", entity.GetInt64(SequenceProperty) ?? -1);
                    }
                    break;
                }
                catch (Exception ex) when (IsTransient(ex, cancellationToken) && ++attempt < _options.MaxAttempts)
                {
                    await Task.Delay(Backoff(attempt), time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        return found;
    }

    private static ClaimOutcome Decide(ClaimRequest request, ClaimOwner owner) =>
        owner.Partition == request.Partition && owner.SequenceNumber == request.SequenceNumber
            ? ClaimOutcome.ClaimedBefore
            : ClaimOutcome.Duplicate;

    private Task<TableClient> EnsureTableAsync(string tableName, CancellationToken cancellationToken)
    {
        var table = service.GetTableClient(tableName);
        var created = _createdTables.GetOrAdd(tableName, _ => table.CreateIfNotExistsAsync(CancellationToken.None));
        if (created.IsFaulted)
        {
            _createdTables.TryRemove(tableName, out _);
        }
        return Await(created, table, cancellationToken);

        static async Task<TableClient> Await(Task created, TableClient table, CancellationToken cancellationToken)
        {
            await created.WaitAsync(cancellationToken).ConfigureAwait(false);
            return table;
        }
    }

    private const string PartitionProperty = "EventHubPartition";
    private const string SequenceProperty = "SequenceNumber";

    private static TableEntity ToEntity(string partitionKey, ClaimRequest request) => new(partitionKey, request.ClickId.ToString())
    {
        [PartitionProperty] = request.Partition,
        [SequenceProperty] = request.SequenceNumber,
        ["ClickTime"] = request.ClickTime,
    };

    private TimeSpan Backoff(int attempt)
    {
        double factor = Math.Pow(2, attempt - 1) * (0.8 + Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromTicks((long)(_options.InitialBackoff.Ticks * factor));
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        RequestFailedException rfe => rfe.Status is 0 or 408 or 500 or 503 || rfe.InnerException is IOException or TimeoutException or TaskCanceledException,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        IOException or TimeoutException or HttpRequestException => true,
        AggregateException agg => agg.InnerExceptions.All(e => IsTransient(e, cancellationToken)),
        _ => false,
    };

    private readonly record struct ClaimOwner(string Partition, long SequenceNumber);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Claim transaction on {Table}/{PartitionKey} failed transiently (attempt {Attempt}); retrying in {Delay}")]
        public static partial void TransientFailure(ILogger logger, string table, string partitionKey, int attempt, TimeSpan delay, Exception exception);
    }
}
