using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Tests.Simulation;

/// <summary>A fault the model injects; the modelled function host retries or gives up on it like the real one.</summary>
public sealed class SimulatedFaultException(string message) : Exception(message);

/// <summary>
/// Table Storage claims as the Azure claim store behaves: the one <see cref="ClaimRules"/> (claims remember partition
/// and sequence number), but a call can fail before it reaches the server, or time out after the server applied it.
/// </summary>
public sealed class FaultyClaimTable(Random random, double failBefore, double timeoutAfter, TimeSpan horizon) : IClaimStore
{
    private readonly InMemoryClaimStore _table = new(horizon);

    public int Faults { get; private set; }

    public async ValueTask ClaimAsync(ReadOnlyMemory<ClaimRequest> requests, Memory<ClaimOutcome> outcomes, CancellationToken cancellationToken)
    {
        if (random.NextDouble() < failBefore)
        {
            Faults++;
            throw new SimulatedFaultException("claims: 503 before the server applied the batch");
        }
        await _table.ClaimAsync(requests, outcomes, cancellationToken).ConfigureAwait(false);
        if (random.NextDouble() < timeoutAfter)
        {
            Faults++;
            throw new SimulatedFaultException("claims: timeout after the server applied the batch");
        }
    }
}

/// <summary>One row of the modelled ADX bucket table.</summary>
public sealed record BucketRow(string RowId, BucketKey Key, BucketCounts Counts, int VisibleFromRead);

/// <summary>
/// The ADX side: a bucket table that streaming ingestion appends rows to, with deterministic row ids, read through a
/// dedup view (take_any by RowId) summed per key, as the materialized views do. Ingestion can fail outright, time out
/// after the rows landed, or go through an outage of several calls; rows can become visible one read late.
/// </summary>
public sealed class SimulatedKusto(Random random, double failBefore, double timeoutAfter, double outageStart, bool ingestionLag)
{
    private int _outage;
    private int _reads;

    public List<BucketRow> Rows { get; } = [];

    public int Faults { get; private set; }

    public void Ingest(IEnumerable<(string RowId, BucketKey Key, BucketCounts Counts)> rows)
    {
        if (_outage == 0 && random.NextDouble() < outageStart)
        {
            _outage = random.Next(2, 8);
        }
        if (_outage > 0)
        {
            _outage--;
            Faults++;
            throw new SimulatedFaultException("ingestion: service unavailable");
        }
        if (random.NextDouble() < failBefore)
        {
            Faults++;
            throw new SimulatedFaultException("ingestion: 500 before anything landed");
        }
        foreach (var (rowId, key, counts) in rows)
        {
            Rows.Add(new BucketRow(rowId, key, counts, ingestionLag ? _reads + 1 : 0));
        }
        if (random.NextDouble() < timeoutAfter)
        {
            Faults++;
            throw new SimulatedFaultException("ingestion: timeout after the rows landed");
        }
    }

    /// <summary>The dedup view summed per key: what queries and the reconciler see.</summary>
    public Dictionary<BucketKey, BucketCounts> View(bool countRead = true)
    {
        int read = countRead ? ++_reads : int.MaxValue;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var sums = new Dictionary<BucketKey, BucketCounts>();
        foreach (var row in Rows)
        {
            if (row.VisibleFromRead > read || !seen.Add(row.RowId))
            {
                continue;
            }
            if (!sums.TryGetValue(row.Key, out var sum))
            {
                sum = new BucketCounts();
                sums.Add(row.Key, sum);
            }
            sum.Add(row.Counts);
        }
        return sums;
    }
}

/// <summary>
/// The reconciler's store port over the modelled ADX as the Azure adapter reads it: totals per shard of ads first,
/// per-ad rows only of the shards asked for, and what the aggregator consumed from its checkpoints (read first);
/// ingests correction rows.
/// </summary>
public sealed class SimulatedKustoCorrections(SimulatedKusto kusto, Func<IReadOnlyDictionary<string, long>> checkpoints) : IShardedBucketCorrections
{
    public int Writes { get; private set; }

    public long MaxRowsPerRead { get; private set; }

    private Dictionary<BucketKey, BucketCounts> Window(DateTimeOffset windowStart, DateTimeOffset windowEnd) =>
        kusto.View().Where(b => b.Key.Minute >= windowStart && b.Key.Minute < windowEnd).ToDictionary(b => b.Key, b => b.Value);

    public ValueTask<StoredBuckets> ReadAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken) =>
        ValQ(new StoredBuckets(Window(windowStart, windowEnd), checkpoints()));

    public ValueTask<StoredShards> ReadShardTotalsAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken)
    {
        var consumed = checkpoints();
        var totals = BucketShards.Totals(Window(windowStart, windowEnd), windowStart);
        MaxRowsPerRead = Math.Max(MaxRowsPerRead, totals.Count);
        return ValQ(new StoredShards(totals, consumed));
    }

    public ValueTask<(IReadOnlyDictionary<BucketKey, BucketCounts> Buckets, long MaxRowsPerRead)> ReadShardsAsync(
        DateTimeOffset windowStart, DateTimeOffset windowEnd, IReadOnlyDictionary<string, long> expectedBuckets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(expectedBuckets);
        IReadOnlyDictionary<BucketKey, BucketCounts> rows = Window(windowStart, windowEnd)
            .Where(b => expectedBuckets.ContainsKey(BucketShards.Of(b.Key))).ToDictionary(b => b.Key, b => b.Value);
        MaxRowsPerRead = Math.Max(MaxRowsPerRead, rows.Count);
        return ValQ((rows, (long)rows.Count));
    }

    private static ValueTask<T> ValQ<T>(T value) => ValueTask.FromResult(value);

    public ValueTask WriteAsync(BucketCorrectionBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Writes++;
        kusto.Ingest(batch.Corrections.Select(c => (c.RowId, c.Key, c.Delta)));
        return ValueTask.CompletedTask;
    }
}

/// <summary>Event Hubs Capture of the modelled log: each partition cut into Avro-like files of a few events.</summary>
public sealed class SimulatedCapture(IReadOnlyList<IReadOnlyList<RawEvent>> partitions, Random random) : IRawEventSource
{
    private readonly List<RawEventFile> _files = Cut(partitions, random);

    private static List<RawEventFile> Cut(IReadOnlyList<IReadOnlyList<RawEvent>> partitions, Random random)
    {
        var files = new List<RawEventFile>();
        for (int p = 0; p < partitions.Count; p++)
        {
            var events = partitions[p];
            for (int start = 0; start < events.Count;)
            {
                int size = Math.Min(events.Count - start, random.Next(1, 30));
                files.Add(new RawEventFile(p.ToString(System.Globalization.CultureInfo.InvariantCulture), $"capture/{p}/{start}", null, [.. events.Skip(start).Take(size)]));
                start += size;
            }
        }
        return files;
    }

    public async IAsyncEnumerable<RawEventFile> ReadAsync(DateTimeOffset enqueuedFrom, DateTimeOffset enqueuedTo, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var file in _files)
        {
            if (file.Events.Any(e => e.EnqueuedTime >= enqueuedFrom && e.EnqueuedTime < enqueuedTo))
            {
                yield return file;
            }
        }
    }
}
