using System.Collections.Concurrent;
using System.Globalization;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// The embedded bucket store in one DuckDB file (schema: <see cref="StoreSchema"/>): minute, hour and day rollups
/// maintained incrementally, the dedup claims, the consumer's log positions and the dead letters. This class owns the
/// connections: one writer (the consumer's <see cref="Commit"/>, <see cref="StoreWriter"/>) behind a lock, and a pool
/// of readers for the queries (<see cref="StoreQueries"/>), which read the last committed state.
/// </summary>
public sealed partial class DuckDbClickStore : IClickQueries, IDisposable
{
    private readonly string _connectionString;
    private readonly DuckDBConnection _writer;
    private readonly StoreWriter _batches;
    private readonly ConcurrentBag<DuckDBConnection> _readers = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Opens (or creates) the store; a file of another schema version throws <see cref="StoreVersionException"/>.</summary>
    public DuckDbClickStore(ClickStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? directory = System.IO.Path.GetDirectoryName(options.Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        Path = options.Path;
        _connectionString = $"Data Source={options.Path}";
        _writer = new DuckDBConnection(_connectionString);
        _writer.Open();
        try
        {
            // Database-wide settings (every connection of this file shares them); the values are validated options.
            _autoMemory = StoreMemory.IsAuto(options.MemoryLimit);
            MemoryLimit = !_autoMemory ? options.MemoryLimit : options.AutoStartLimit ?? StoreMemory.Format(StoreMemory.BaseBytes);
            StoreSchema.Execute(_writer, string.Create(CultureInfo.InvariantCulture, $"SET memory_limit = '{MemoryLimit}'; SET threads = {options.Threads}"));
            StoreSchema.CreateOrVerify(_writer, options.Path);
            if (_autoMemory && options.AutoStartLimit is null)
            {
                SizeMemoryLimit(_writer);
            }
            // Opening replayed any WAL a crash left into indexes DuckDB keeps unbound until a statement binds them; a
            // checkpoint without a client (the one at close) would then persist the `page` indexes without the replayed
            // rows, and every lookup through them would miss (DuckDB 1.4-1.5; docs/decisions/051). A checkpoint from
            // this connection binds them first and persists the replayed state.
            StoreSchema.Execute(_writer, "CHECKPOINT");
        }
        catch
        {
            _writer.Dispose();
            throw;
        }
        _batches = new StoreWriter(_writer);
        _marks = StoreMarks.Load(_writer);
    }

    public string Path { get; }

    /// <summary>
    /// DuckDB's memory limit now in force: the configured size, or with <c>ClickStore:MemoryLimit=auto</c> the one
    /// sized to the store's indexed rows (<see cref="StoreMemory"/>), re-derived as the store grows.
    /// </summary>
    public string MemoryLimit { get; private set; }

    private readonly bool _autoMemory;
    private long _memoryBytes;

    /// <summary>
    /// With an automatic limit, sizes it again to the rows the store holds now and raises it if they need more (it
    /// never lowers it: index memory already loaded stays). Returns whether it was raised. Called at open, by the
    /// retention sweep, and when a query runs out of memory.
    /// </summary>
    public bool RefreshMemoryLimit() => _autoMemory && OnWriter(SizeMemoryLimit);

    private bool SizeMemoryLimit(DuckDBConnection connection)
    {
        long available = StoreMemory.Available();
        long rows;
        try
        {
            rows = StoreMemory.IndexedRows(connection);
        }
        catch (DuckDBException e) when (IsOutOfMemory(e))
        {
            // Even the metadata query needs a block, and the pool is full: open the limit to its cap first (a SET
            // allocates nothing), then size it; the cap stays if the pool is already fuller than the sized limit.
            long cap = StoreMemory.Cap(available);
            if (cap <= Volatile.Read(ref _memoryBytes))
            {
                return false;
            }
            SetMemoryLimit(connection, cap);
            long sized = StoreMemory.AutoBytes(StoreMemory.IndexedRows(connection), available);
            if (sized < cap)
            {
                try
                {
                    SetMemoryLimit(connection, sized);
                }
                catch (DuckDBException)
                {
                    // In use above the sized limit already: the cap stands.
                }
            }
            return true;
        }
        long bytes = StoreMemory.AutoBytes(rows, available);
        if (bytes <= Volatile.Read(ref _memoryBytes))
        {
            return false;
        }
        SetMemoryLimit(connection, bytes);
        return true;
    }

    private void SetMemoryLimit(DuckDBConnection connection, long bytes)
    {
        string limit = StoreMemory.Format(bytes);
        StoreSchema.Execute(connection, $"SET memory_limit = '{limit}'");
        MemoryLimit = limit;
        Volatile.Write(ref _memoryBytes, bytes);
    }

    private long StoreFileMiB() => File.Exists(Path) ? new FileInfo(Path).Length / (1024 * 1024) : 0;

    /// <summary>Where each log partition's consumer resumes: the next sequence number not yet aggregated.</summary>
    public IReadOnlyDictionary<int, long> LoadPositions() => OnWriter(c => StorePositions.Load(c));

    /// <summary>The claims of clicks at or after <paramref name="since"/> (the latest claim per click id).</summary>
    public List<NewClaim> LoadClaims(DateTimeOffset since) => OnWriter(c => StorePositions.LoadClaims(c, since));

    /// <summary>Writes one batch atomically: rollups, claims, dead letters and positions, or nothing.</summary>
    public void Commit(StoreBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        OnWriter(_ =>
        {
            _batches.Commit(batch);
            return 0;
        });
    }

    /// <summary>Deletes claims of clicks before <paramref name="clickTimeBefore"/>; returns how many.</summary>
    public long PurgeClaims(DateTimeOffset clickTimeBefore) => OnWriter(c => StoreMaintenance.PurgeClaims(c, clickTimeBefore));

    /// <summary>Writes everything committed into the file itself (no WAL left behind).</summary>
    public void Checkpoint() => OnWriter(c =>
    {
        StoreSchema.Execute(c, "CHECKPOINT");
        return 0;
    });

    /// <summary>Dead letters stored so far (for operators and tests).</summary>
    public IReadOnlyList<(string Partition, long Sequence, string Reason)> ReadDeadLetters() => WithReader(StoreMaintenance.ReadDeadLetters);

    /// <summary>Rows of one rollup table (for tests and diagnostics).</summary>
    public long CountRows(Granularity granularity) => WithReader(c => StoreMaintenance.CountRows(c, granularity));

    /// <summary>Whether the store has never consumed anything (a new or deleted store): only a rebuild can fill it.</summary>
    public bool IsEmpty() => WithReader(StoreMaintenance.IsEmpty);

    public ValueTask<AdClicks?> GetAdClicksAsync(AdClicksQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        EnsureRetained(QueryPlanner.ForBuckets(query));
        return ValueTask.FromResult(WithReader(c => StoreQueries.GetAdClicks(c, query)));
    }

    public ValueTask<Breakdown?> GetBreakdownAsync(BreakdownQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Past retention is a refusal with its reason, never a silent zero (docs/decisions/085 and 088).
        if (query.Dimension is null)
        {
            foreach (var segment in QueryPlanner.ForTotals(query.Range))
            {
                EnsureRetained(segment);
            }
        }
        else
        {
            foreach (var piece in StoreQueries.DimensionPieces(query).Where(p => p.First < p.End))
            {
                EnsureRetained(piece.Table, StoreQueries.PieceStart(piece));
            }
        }
        return ValueTask.FromResult(WithReader(c => StoreQueries.GetBreakdown(c, query)));
    }

    /// <summary>
    /// Records that reconciliation confirmed [from, to): the store equals the recount of the log there, so the query
    /// API reports those buckets as final.
    /// </summary>
    public void RecordConfirmedWindow(DateTimeOffset from, DateTimeOffset to) => OnWriter(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "INSERT INTO reconciled_windows VALUES ($from, $to)";
        command.Parameters.Add(new DuckDBParameter("from", from.UtcDateTime));
        command.Parameters.Add(new DuckDBParameter("to", to.UtcDateTime));
        command.ExecuteNonQuery();
        return 0;
    });

    public ValueTask<AdvertiserAds> ListAdsAsync(AdvertiserAdsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        foreach (var segment in QueryPlanner.ForTotals(query.Range))
        {
            EnsureRetained(segment);
        }
        var ads = WithReader(c => StoreQueries.ListAds(c, query));
        ads.Sort(AdvertiserAds.Order);
        return ValueTask.FromResult(new AdvertiserAds(query.AdvertiserId, query.Range.From.UtcDateTime, query.Range.To.UtcDateTime, ads));
    }

    private T OnWriter<T>(Func<DuckDBConnection, T> work)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                return work(_writer);
            }
            catch (DuckDBException e) when (IsOutOfMemory(e) && _autoMemory)
            {
                // Sized here, not in the filter: a filter runs before the failed work's transaction is disposed, and
                // DuckDB refuses every statement in an aborted transaction. By now it has been rolled back: each
                // work here is one transaction (disposed on the way out) or statements that are idempotent (marks
                // that only move forward, deletes, a checkpoint before a copy), so running it again under a raised
                // limit cannot apply anything twice.
                if (!SizeMemoryLimit(_writer))
                {
                    throw;
                }
            }
            return work(_writer);
        }
    }

    /// <summary>Runs <paramref name="work"/> on a pooled reader connection (its own snapshot of the last commit).</summary>
    internal T WithReader<T>(Func<DuckDBConnection, T> work)
    {
        if (!_readers.TryTake(out var connection))
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
            }
            // DuckDB.NET shares one database instance between the connections a process opens on one file.
            connection = new DuckDBConnection(_connectionString);
            connection.Open();
            // A page lookup returns at most PageBuckets rows per campaign: always worth the index, however small the table.
            StoreSchema.Execute(connection, "SET index_scan_percentage = 1.0; SET index_scan_max_count = 100000");
        }
        try
        {
            try
            {
                return work(connection);
            }
            catch (DuckDBException e) when (IsOutOfMemory(e) && _autoMemory)
            {
                // (Sized after the failed query's reader is disposed, not in the filter.) If the store has grown past
                // the automatic limit, the query runs once more under the new one; otherwise the error stands.
                if (!RefreshMemoryLimit())
                {
                    throw;
                }
            }
            return work(connection);
        }
        catch (DuckDBException e) when (IsOutOfMemory(e))
        {
            // The buffer pool is full of index pages DuckDB keeps resident (StoreMemory): the limit is too small for
            // this store. Say which setting to raise instead of failing opaquely.
            throw new QueryResourcesExhaustedException(string.Create(CultureInfo.InvariantCulture,
                $"The click store ran out of memory answering this query (memory limit {MemoryLimit}{(_autoMemory ? ", sized automatically and capped at 60% of available memory" : "")}; store file {StoreFileMiB()} MiB). Raise ClickStore:MemoryLimit or give the host more memory (docs/operations.md, sizing). DuckDB said: {e.Message.Split('\n')[0]}"), e);
        }
        finally
        {
            if (Volatile.Read(ref _disposed))
            {
                connection.Dispose();
            }
            else
            {
                _readers.Add(connection);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Click store {Path} open: memory limit {MemoryLimit} (ClickStore:MemoryLimit = {Setting}).")]
    internal static partial void LogOpened(ILogger logger, string path, string memoryLimit, string setting);

    private static bool IsOutOfMemory(DuckDBException e) => e.ErrorType == DuckDB.NET.Native.DuckDBErrorType.OutOfMemory;

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            while (_readers.TryTake(out var reader))
            {
                reader.Dispose();
            }
            _writer.Dispose();
        }
    }
}
