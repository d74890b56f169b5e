using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Text;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using DuckDB.NET.Data;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// The embedded bucket store in one DuckDB file: minute, hour and day rollups maintained incrementally, the dedup
/// claims, the consumer's log positions and the dead letters. <see cref="Commit"/> writes all of them for one
/// batch in one transaction, so after a crash the store is either before or after the batch, never between
/// (docs/architecture.md, invariant 4). One writer (the consumer); queries run on their own connections and read the last
/// committed state.
/// </summary>
public sealed class DuckDbClickStore : IClickQueries, IDisposable
{
    private static readonly ClickReason[] InvalidReasons = [.. ClickReasons.All.Where(r => r != ClickReason.Valid)];
    private static readonly (Granularity Granularity, string Table, int Minutes)[] Rollups =
    [
        (Granularity.Minute, "clicks_minute", 1),
        (Granularity.Hour, "clicks_hour", 60),
        (Granularity.Day, "clicks_day", 1440),
    ];

    private readonly string _connectionString;
    private readonly DuckDBConnection _writer;
    private readonly ConcurrentBag<DuckDBConnection> _readers = [];
    private readonly Lock _gate = new();
    private readonly string[] _upserts;
    private bool _disposed;

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
        // Database-wide settings (every connection of this file shares them); the values are validated options.
        Execute(_writer, string.Create(CultureInfo.InvariantCulture, $"SET memory_limit = '{options.MemoryLimit}'; SET threads = {options.Threads}"));
        CreateSchema();
        _upserts =
        [
            .. Rollups.Select(r => UpsertSql(r.Table, r.Minutes)),
            "INSERT INTO ads SELECT ad_key, any_value(advertiser_id), any_value(ad_id), any_value(campaign_id) FROM staging_buckets GROUP BY ad_key ON CONFLICT DO NOTHING",
        ];
    }

    public string Path { get; }

    public static string ReasonColumn(ClickReason reason) => "invalid_" + reason.Code();

    private void CreateSchema()
    {
        string reasons = string.Concat(InvalidReasons.Select(r => $", {ReasonColumn(r)} BIGINT NOT NULL DEFAULT 0"));
        var sql = new StringBuilder();
        foreach (var (_, table, _) in Rollups)
        {
            sql.Append(CultureInfo.InvariantCulture, $"""
                CREATE TABLE IF NOT EXISTS {table} (
                    k HUGEINT PRIMARY KEY,
                    page HUGEINT NOT NULL,
                    advertiser_id VARCHAR NOT NULL,
                    campaign_id VARCHAR NOT NULL,
                    ad_id VARCHAR NOT NULL,
                    bucket_start TIMESTAMP NOT NULL,
                    clicks BIGINT NOT NULL,
                    invalid_clicks BIGINT NOT NULL{reasons});
                CREATE INDEX IF NOT EXISTS {table}_page ON {table} (page);

                """);
        }
        sql.Append(CultureInfo.InvariantCulture, $"""
            CREATE TABLE IF NOT EXISTS staging_buckets (
                ad_key BIGINT NOT NULL,
                advertiser_id VARCHAR NOT NULL,
                campaign_id VARCHAR NOT NULL,
                ad_id VARCHAR NOT NULL,
                minute BIGINT NOT NULL,
                clicks BIGINT NOT NULL,
                invalid_clicks BIGINT NOT NULL{reasons.Replace(" NOT NULL DEFAULT 0", "", StringComparison.Ordinal)});
            CREATE TABLE IF NOT EXISTS ads (
                ad_key BIGINT PRIMARY KEY,
                advertiser_id VARCHAR NOT NULL,
                ad_id VARCHAR NOT NULL,
                campaign_id VARCHAR NOT NULL);
            CREATE TABLE IF NOT EXISTS claims (
                id_hi UBIGINT NOT NULL,
                id_lo UBIGINT NOT NULL,
                click_time TIMESTAMP NOT NULL,
                log_partition VARCHAR NOT NULL,
                sequence BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS positions (
                log_partition INTEGER PRIMARY KEY,
                next_sequence BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS dead_letters (
                log_partition VARCHAR NOT NULL,
                sequence BIGINT NOT NULL,
                enqueued_time TIMESTAMP NOT NULL,
                reason VARCHAR NOT NULL,
                body BLOB NOT NULL);
            """);
        Execute(_writer, sql.ToString());
    }

    private static string UpsertSql(string table, int minutes)
    {
        string reasonColumns = string.Concat(InvalidReasons.Select(r => ", " + ReasonColumn(r)));
        string reasonSums = string.Concat(InvalidReasons.Select(r => $", sum({ReasonColumn(r)})"));
        string reasonUpdates = string.Concat(InvalidReasons.Select(r => $", {ReasonColumn(r)} = {ReasonColumn(r)} + excluded.{ReasonColumn(r)}"));
        return string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO {table} (k, page, advertiser_id, campaign_id, ad_id, bucket_start, clicks, invalid_clicks{reasonColumns})
            SELECT ad_key::HUGEINT * 4294967296 + minute // {minutes}, ad_key::HUGEINT * {AdKey.PagesPerAd} + minute // {minutes} // {AdKey.PageBuckets}, any_value(advertiser_id), any_value(campaign_id), any_value(ad_id),
                   epoch_ms((minute // {minutes}) * {minutes * 60_000}), sum(clicks), sum(invalid_clicks){reasonSums}
            FROM staging_buckets
            GROUP BY ad_key, minute // {minutes}
            ON CONFLICT (k) DO UPDATE SET clicks = clicks + excluded.clicks, invalid_clicks = invalid_clicks + excluded.invalid_clicks{reasonUpdates}
            """);
    }

    /// <summary>Where each log partition's consumer resumes: the next sequence number not yet aggregated.</summary>
    public IReadOnlyDictionary<int, long> LoadPositions()
    {
        var positions = new Dictionary<int, long>();
        lock (_gate)
        {
            using var command = _writer.CreateCommand();
            command.CommandText = "SELECT log_partition, next_sequence FROM positions";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                positions[reader.GetInt32(0)] = reader.GetInt64(1);
            }
        }
        return positions;
    }

    /// <summary>The claims of clicks at or after <paramref name="since"/> (the latest claim per click id).</summary>
    public List<NewClaim> LoadClaims(DateTimeOffset since)
    {
        var claims = new List<NewClaim>();
        lock (_gate)
        {
            using var command = _writer.CreateCommand();
            command.CommandText = """
                SELECT id_hi, id_lo, max(click_time), arg_max(log_partition, click_time), arg_max(sequence, click_time)
                FROM claims WHERE click_time >= $since GROUP BY id_hi, id_lo
                """;
            command.Parameters.Add(new DuckDBParameter("since", since.UtcDateTime));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var id = new ClickId(new UInt128(reader.GetFieldValue<ulong>(0), reader.GetFieldValue<ulong>(1)));
                var time = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc));
                claims.Add(new NewClaim(id, new Claim(time, reader.GetString(3), reader.GetInt64(4))));
            }
        }
        return claims;
    }

    /// <summary>Writes one batch atomically: rollups, claims, dead letters and positions, or nothing.</summary>
    public void Commit(StoreBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var transaction = _writer.BeginTransaction();
            if (batch.Buckets.Count > 0)
            {
                Execute(_writer, "DELETE FROM staging_buckets");
                using (var appender = _writer.CreateAppender("staging_buckets"))
                {
                    foreach (var (key, counts) in batch.Buckets)
                    {
                        var row = appender.CreateRow()
                            .AppendValue(AdKey.Of(key.AdvertiserId, key.AdId))
                            .AppendValue(key.AdvertiserId)
                            .AppendValue(key.CampaignId)
                            .AppendValue(key.AdId)
                            .AppendValue(key.Minute.ToUnixTimeSeconds() / 60)
                            .AppendValue(counts.Clicks)
                            .AppendValue(counts.InvalidClicks);
                        foreach (var reason in InvalidReasons)
                        {
                            row.AppendValue(counts.InvalidByReason[(int)reason]);
                        }
                        row.EndRow();
                    }
                }
                foreach (string upsert in _upserts)
                {
                    Execute(_writer, upsert);
                }
            }
            if (batch.Claims.Count > 0)
            {
                using var appender = _writer.CreateAppender("claims");
                foreach (var (id, claim) in batch.Claims)
                {
                    appender.CreateRow()
                        .AppendValue((ulong)(id.Value >> 64))
                        .AppendValue((ulong)id.Value)
                        .AppendValue(claim.ClickTime.UtcDateTime)
                        .AppendValue(claim.Partition)
                        .AppendValue(claim.SequenceNumber)
                        .EndRow();
                }
            }
            if (batch.DeadLetters.Count > 0)
            {
                using var appender = _writer.CreateAppender("dead_letters");
                foreach (var letter in batch.DeadLetters)
                {
                    appender.CreateRow()
                        .AppendValue(letter.Event.Partition)
                        .AppendValue(letter.Event.SequenceNumber)
                        .AppendValue(letter.Event.EnqueuedTime.UtcDateTime)
                        .AppendValue(letter.Reason)
                        .AppendValue(letter.Event.Body.ToArray())
                        .EndRow();
                }
            }
            if (batch.Positions.Count > 0)
            {
                string values = string.Join(", ", batch.Positions.Select(p => string.Create(CultureInfo.InvariantCulture, $"({p.Key}, {p.Value})")));
                Execute(_writer, $"INSERT INTO positions VALUES {values} ON CONFLICT (log_partition) DO UPDATE SET next_sequence = excluded.next_sequence");
            }
            transaction.Commit();
        }
    }

    /// <summary>Deletes claims of clicks before <paramref name="clickTimeBefore"/>; returns how many.</summary>
    public long PurgeClaims(DateTimeOffset clickTimeBefore)
    {
        lock (_gate)
        {
            using var command = _writer.CreateCommand();
            command.CommandText = "DELETE FROM claims WHERE click_time < $before";
            command.Parameters.Add(new DuckDBParameter("before", clickTimeBefore.UtcDateTime));
            return command.ExecuteNonQuery();
        }
    }

    /// <summary>Dead letters stored so far (for operators and tests).</summary>
    public IReadOnlyList<(string Partition, long Sequence, string Reason)> ReadDeadLetters()
    {
        var letters = new List<(string, long, string)>();
        WithReader(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT log_partition, sequence, reason FROM dead_letters ORDER BY log_partition, sequence";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                letters.Add((reader.GetString(0), reader.GetInt64(1), reader.GetString(2)));
            }
            return 0;
        });
        return letters;
    }

    /// <summary>Rows of one rollup table (for tests and diagnostics).</summary>
    public long CountRows(Granularity granularity) => WithReader(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {Rollups[(int)granularity].Table}";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    });

    public ValueTask<AdClicks?> GetAdClicksAsync(AdClicksQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var segment = QueryPlanner.ForBuckets(query);
        var (_, table, minutes) = Rollups[(int)segment.Rollup];
        long adKey = AdKey.Of(query.AdvertiserId, query.AdId);
        long bucketSeconds = minutes * 60L;
        var result = WithReader(connection =>
        {
            // The ads table owns each ad key: if the key is not this advertiser's ad, nothing under it is theirs.
            if (!AdExists(connection, adKey, query.AdvertiserId, query.AdId))
            {
                return null;
            }
            var buckets = new List<ClickBucket>();
            long first = segment.Range.From.ToUnixTimeSeconds() / bucketSeconds;
            long last = segment.Range.To.ToUnixTimeSeconds() / bucketSeconds - 1;
            var lo = AdKey.RowKey(adKey, first);
            var hi = AdKey.RowKey(adKey, last);
            var adBase = AdKey.RowKey(adKey, 0);
            using var command = connection.CreateCommand();
            // One equality lookup per page of the index on `page`: DuckDB answers those from the ART index, while a
            // range or IN filter, or any second predicate, makes it scan the table. The range is checked here, and
            // only numeric columns are fetched (the bucket start is the bucket number in the key).
            var sql = new StringBuilder("SELECT k, clicks, invalid_clicks FROM (");
            long firstPage = first / AdKey.PageBuckets;
            long lastPage = last / AdKey.PageBuckets;
            for (long page = firstPage; page <= lastPage; page++)
            {
                string name = "p" + (page - firstPage).ToString(CultureInfo.InvariantCulture);
                sql.Append(page == firstPage ? "" : " UNION ALL ")
                    .Append(CultureInfo.InvariantCulture, $"SELECT k, clicks, invalid_clicks FROM {table} WHERE page = ${name}");
                command.Parameters.Add(new DuckDBParameter(name, AdKey.PageKey(adKey, page)));
            }
            command.CommandText = sql.Append(") ORDER BY k").ToString();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var k = reader.GetFieldValue<BigInteger>(0);
                if (k >= lo && k <= hi)
                {
                    long bucket = (long)(k - adBase);
                    var start = DateTime.UnixEpoch.AddTicks(bucket * bucketSeconds * TimeSpan.TicksPerSecond);
                    buckets.Add(new ClickBucket(start, reader.GetInt64(1), reader.GetInt64(2)));
                }
            }
            return AdClicks.Create(query, buckets);
        });
        return ValueTask.FromResult(result);
    }

    private static bool AdExists(DuckDBConnection connection, long adKey, string advertiserId, string adId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT advertiser_id, ad_id FROM ads WHERE ad_key = $key";
        command.Parameters.Add(new DuckDBParameter("key", adKey));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (IsAd(reader, 0, advertiserId, adId))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Guards against a 64-bit ad key collision: the key is this ad's only if the ads row names it.</summary>
    private static bool IsAd(System.Data.Common.DbDataReader reader, int ordinal, string advertiserId, string adId) =>
        string.Equals(reader.GetString(ordinal), advertiserId, StringComparison.Ordinal) && string.Equals(reader.GetString(ordinal + 1), adId, StringComparison.Ordinal);

    public ValueTask<AdvertiserAds> ListAdsAsync(AdvertiserAdsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var segments = QueryPlanner.ForTotals(query.Range);
        var sql = new StringBuilder("SELECT ad_id, any_value(campaign_id), sum(clicks)::BIGINT, sum(invalid_clicks)::BIGINT FROM (");
        for (int i = 0; i < segments.Count; i++)
        {
            if (i > 0)
            {
                sql.Append(" UNION ALL ");
            }
            sql.Append(CultureInfo.InvariantCulture,
                $"SELECT ad_id, campaign_id, clicks, invalid_clicks FROM {Rollups[(int)segments[i].Rollup].Table} WHERE advertiser_id = $advertiser AND bucket_start >= $from{i} AND bucket_start < $to{i}");
        }
        sql.Append(") GROUP BY ad_id");
        var ads = WithReader(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql.ToString();
            command.Parameters.Add(new DuckDBParameter("advertiser", query.AdvertiserId));
            for (int i = 0; i < segments.Count; i++)
            {
                command.Parameters.Add(new DuckDBParameter("from" + i.ToString(CultureInfo.InvariantCulture), segments[i].Range.From.UtcDateTime));
                command.Parameters.Add(new DuckDBParameter("to" + i.ToString(CultureInfo.InvariantCulture), segments[i].Range.To.UtcDateTime));
            }
            var list = new List<AdTotals>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                list.Add(new AdTotals(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
            }
            return list;
        });
        ads.Sort(AdvertiserAds.Order);
        return ValueTask.FromResult(new AdvertiserAds(query.AdvertiserId, query.Range.From.UtcDateTime, query.Range.To.UtcDateTime, ads));
    }

    private T WithReader<T>(Func<DuckDBConnection, T> work)
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
            // A page lookup returns at most PageBuckets rows: always worth the index, however small the table.
            Execute(connection, "SET index_scan_percentage = 1.0; SET index_scan_max_count = 100000");
        }
        try
        {
            return work(connection);
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

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

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
