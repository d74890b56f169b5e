using System.Globalization;
using System.Text;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Ports;
using ClickFunctions.Reconciliation;
using DuckDB.NET.Data;

namespace ClickFunctions.Embedded.Reconciliation;

/// <summary>
/// The embedded store as the reconciler sees it. Reads the minute rows of a window together with the consumer's
/// positions in one snapshot (so the reconciler can tell counted from not-yet-counted events), on a connection of
/// its own to the store's file (DuckDB shares one database between a process's connections). Corrections go through
/// <see cref="DuckDbClickStore.Commit"/> as bucket deltas: minute, hour and day rows move together in one transaction.
/// </summary>
public sealed class DuckDbBucketCorrections(DuckDbClickStore store) : IBucketCorrections
{
    private static readonly ClickReason[] InvalidReasons = [.. ClickReasons.All.Where(r => r != ClickReason.Valid)];

    public ValueTask<StoredBuckets> ReadAsync(DateTimeOffset windowStart, DateTimeOffset windowEnd, CancellationToken cancellationToken)
    {
        using var connection = new DuckDBConnection($"Data Source={store.Path}");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        var positions = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT log_partition, next_sequence FROM positions";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                positions[reader.GetInt32(0).ToString(CultureInfo.InvariantCulture)] = reader.GetInt64(1);
            }
        }
        var buckets = new Dictionary<BucketKey, BucketCounts>();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            var sql = new StringBuilder("SELECT advertiser_id, campaign_id, ad_id, bucket_start, clicks");
            foreach (var reason in InvalidReasons)
            {
                sql.Append(", ").Append(DuckDbClickStore.ReasonColumn(reason));
            }
            sql.Append(" FROM clicks_minute WHERE bucket_start >= $from AND bucket_start < $to");
            command.CommandText = sql.ToString();
            command.Parameters.Add(new DuckDBParameter("from", windowStart.UtcDateTime));
            command.Parameters.Add(new DuckDBParameter("to", windowEnd.UtcDateTime));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var minute = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc));
                var counts = new BucketCounts { Clicks = reader.GetInt64(4) };
                for (int i = 0; i < InvalidReasons.Length; i++)
                {
                    counts.InvalidByReason[(int)InvalidReasons[i]] = reader.GetInt64(5 + i);
                }
                buckets[new BucketKey(reader.GetString(0), reader.GetString(1), reader.GetString(2), minute)] = counts;
            }
        }
        transaction.Commit();
        return ValueTask.FromResult(new StoredBuckets(buckets, positions));
    }

    public ValueTask WriteAsync(BucketCorrectionBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var deltas = new Dictionary<BucketKey, BucketCounts>(batch.Corrections.Count);
        foreach (var correction in batch.Corrections)
        {
            deltas[correction.Key] = correction.Delta;
        }
        store.Commit(new StoreBatch(deltas, [], [], new Dictionary<int, long>()));
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether the store has never consumed anything (a new or deleted store): only a rebuild can fill it.</summary>
    public bool IsEmpty()
    {
        using var connection = new DuckDBConnection($"Data Source={store.Path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM positions) + (SELECT count(*) FROM clicks_minute)";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 0;
    }

    /// <summary>
    /// Disaster recovery: fills an empty store from a recount of the whole log in one transaction: the buckets, the
    /// claims (so clicks after the rebuild are still deduplicated against it) and the consumer's positions at the end
    /// of what was read (so the consumer does not count the log a second time).
    /// </summary>
    public void Rebuild(RecountResult recount)
    {
        ArgumentNullException.ThrowIfNull(recount);
        if (!IsEmpty())
        {
            throw new InvalidOperationException("Rebuild fills an empty store only; this one already holds counts or positions.");
        }
        var positions = recount.NextSequences.ToDictionary(p => int.Parse(p.Key, NumberStyles.None, CultureInfo.InvariantCulture), p => p.Value);
        var claims = recount.Claims.Select(c => new NewClaim(c.Key, c.Value)).ToList();
        store.Commit(new StoreBatch(recount.Buckets, claims, [], positions));
    }
}
