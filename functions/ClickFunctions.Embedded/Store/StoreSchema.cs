using System.Globalization;
using System.Text;
using ClickFunctions.Clicks;
using ClickFunctions.Queries;
using DuckDB.NET.Data;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// The store's tables, in one place: the <c>ads</c> and <c>series</c> dictionaries (dense ids for the exact
/// (advertiser, ad) pair and for (ad, campaign)), the minute, hour and day rollups keyed by series, the staging table a
/// batch passes through, the dedup claims, the consumer's positions and the dead letters. The schema carries a
/// version in <c>store_info</c>; a file of another version is refused with what to do (see
/// docs/decisions/052-store-schema-version.md): only the log can rebuild exact buckets, so there is no migration.
/// </summary>
internal static class StoreSchema
{
    /// <summary>
    /// 5: closed UTC days compacted into one row of quarter hours per series and day (<c>clicks_quarters</c>,
    /// <c>quarter_days</c>), migrated from version 4 by creating them empty: the host's compaction pass fills them
    /// (docs/decisions/104-closed-days-compacted-into-quarter-hour-rows.md). A version-4 build must not write a
    /// version-5 file: it would leave a compacted day's rows behind a later batch.
    /// 4: the advertiser's day dimension rollup (<c>advertiser_dims_day</c>), migrated from version 3 by summing
    /// <c>dims_day</c> (docs/decisions/103-advertiser-breakdowns-from-their-own-day-rollup.md).
    /// 3: dimension rollups (<c>dim_values</c>, <c>dims_quarter</c>, <c>dims_day</c>) and the windows reconciliation
    /// confirmed (<c>reconciled_windows</c>); docs/decisions/076-dimension-rollups-in-the-embedded-store.md.
    /// 2: exact ad identity by dictionary ids and the campaign in the bucket key. 1 (unversioned): FNV-1a keys.
    /// </summary>
    public const int Version = 5;

    /// <summary>The dimension rollups: UTC quarter hours (every local hour boundary in use is one) and UTC days.</summary>
    public static readonly (string Table, int Minutes)[] DimensionRollups =
    [
        ("dims_quarter", 15),
        ("dims_day", 1440),
    ];

    public static readonly ClickReason[] InvalidReasons = [.. ClickReasons.All.Where(r => r != ClickReason.Valid)];

    public static readonly (Granularity Granularity, string Table, int Minutes)[] Rollups =
    [
        (Granularity.Minute, "clicks_minute", 1),
        (Granularity.Hour, "clicks_hour", 60),
        (Granularity.Day, "clicks_day", 1440),
    ];

    public static string ReasonColumn(ClickReason reason) => "invalid_" + reason.Code();

    /// <summary>", invalid_x, invalid_y…" with an optional prefix per column (for example "sum(" … ")").</summary>
    public static string ReasonColumns(string prefix = "", string suffix = "") =>
        string.Concat(InvalidReasons.Select(r => $", {prefix}{ReasonColumn(r)}{suffix}"));

    /// <summary>Creates the schema of a new file, or checks that an existing file has this version.</summary>
    public static void CreateOrVerify(DuckDBConnection connection, string path)
    {
        int? version = ExistingVersion(connection);
        if (version == Version)
        {
            return;
        }
        if (version is 3 or 4)
        {
            if (version == 3)
            {
                MigrateFrom3(connection);
            }
            MigrateFrom4(connection);
            return;
        }
        if (version is not null)
        {
            throw new StoreVersionException(path, version.Value);
        }
        using var transaction = connection.BeginTransaction();
        Execute(connection, CreateSql());
        Execute(connection, string.Create(CultureInfo.InvariantCulture, $"INSERT INTO store_info VALUES ('schema_version', '{Version}')"));
        transaction.Commit();
    }

    /// <summary>
    /// Version 3 to 4, exactly and in one transaction: the advertiser day rollup is the sum of the ad day rollup over
    /// each advertiser's series (the two are written together from then on), appended in day order so its zone maps
    /// on <c>bucket</c> stay tight. A crash before the commit leaves a version-3 file, migrated again at the next open.
    /// </summary>
    private static void MigrateFrom3(DuckDBConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        Execute(connection, AdvertiserDimsDaySql);
        Execute(connection, """
            INSERT INTO advertiser_dims_day (advertiser, value, bucket, clicks, invalid_clicks)
            SELECT a.advertiser_id, d.value, d.bucket, sum(d.clicks)::BIGINT, sum(d.invalid_clicks)::BIGINT
            FROM dims_day d JOIN series x ON x.id = d.series JOIN ads a ON a.id = x.ad
            GROUP BY a.advertiser_id, d.value, d.bucket
            ORDER BY d.bucket, a.advertiser_id, d.value
            """);
        Execute(connection, "UPDATE store_info SET value = '4' WHERE name = 'schema_version'");
        transaction.Commit();
    }

    /// <summary>Version 4 to 5: the compaction tables, empty (no day is compacted until the host's pass compacts it).</summary>
    private static void MigrateFrom4(DuckDBConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        Execute(connection, QuarterDays.TablesSql);
        Execute(connection, string.Create(CultureInfo.InvariantCulture, $"UPDATE store_info SET value = '{Version}' WHERE name = 'schema_version'"));
        transaction.Commit();
    }

    /// <summary>
    /// One row per (advertiser, dimension value, UTC day): what an advertiser's breakdown reads for its whole days,
    /// by a bucket range (zone maps: rows are appended as days begin) and the advertiser, instead of every ad's rows.
    /// </summary>
    private const string AdvertiserDimsDaySql = """
        CREATE TABLE advertiser_dims_day (
            advertiser VARCHAR NOT NULL,
            value INTEGER NOT NULL,
            bucket INTEGER NOT NULL,
            clicks BIGINT NOT NULL,
            invalid_clicks BIGINT NOT NULL,
            PRIMARY KEY (advertiser, value, bucket));

        """;

    /// <summary>Null for an empty file; 1 for a store written before versioning (it has rollups but no store_info).</summary>
    private static int? ExistingVersion(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_name IN ('store_info', 'clicks_minute')";
        var tables = new HashSet<string>(StringComparer.Ordinal);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }
        if (!tables.Contains("store_info"))
        {
            return tables.Contains("clicks_minute") ? 1 : null;
        }
        command.CommandText = "SELECT value FROM store_info WHERE name = 'schema_version'";
        return command.ExecuteScalar() is string text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : 0;
    }

    private static string CreateSql()
    {
        string reasons = ReasonColumns(suffix: " BIGINT NOT NULL DEFAULT 0");
        var sql = new StringBuilder("""
            CREATE TABLE store_info (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
            CREATE TABLE ads (
                id INTEGER PRIMARY KEY,
                name VARCHAR NOT NULL UNIQUE,
                advertiser_id VARCHAR NOT NULL,
                ad_id VARCHAR NOT NULL);
            CREATE TABLE series (
                id INTEGER PRIMARY KEY,
                ad INTEGER NOT NULL,
                campaign_id VARCHAR NOT NULL,
                UNIQUE (ad, campaign_id));

            """);
        foreach (var (_, table, _) in Rollups)
        {
            sql.Append(CultureInfo.InvariantCulture, $"""
                CREATE TABLE {table} (
                    k BIGINT PRIMARY KEY,
                    page BIGINT NOT NULL,
                    series INTEGER NOT NULL,
                    bucket_start TIMESTAMP NOT NULL,
                    clicks BIGINT NOT NULL,
                    invalid_clicks BIGINT NOT NULL{reasons});
                CREATE INDEX {table}_page ON {table} (page);

                """);
        }
        foreach (var (table, _) in DimensionRollups)
        {
            // One row per (series, dimension value, bucket); `page` as in the bucket rollups (the ad's run of 1,024
            // buckets), so one ad's breakdown is a few equality lookups.
            sql.Append(CultureInfo.InvariantCulture, $"""
                CREATE TABLE {table} (
                    series INTEGER NOT NULL,
                    value INTEGER NOT NULL,
                    bucket INTEGER NOT NULL,
                    page BIGINT NOT NULL,
                    clicks BIGINT NOT NULL,
                    invalid_clicks BIGINT NOT NULL,
                    PRIMARY KEY (series, value, bucket));
                CREATE INDEX {table}_page ON {table} (page);

                """);
        }
        sql.Append(AdvertiserDimsDaySql);
        sql.Append(QuarterDays.TablesSql);
        sql.Append(CultureInfo.InvariantCulture, $"""
            CREATE TABLE dim_values (
                id INTEGER PRIMARY KEY,
                dim TINYINT NOT NULL,
                value VARCHAR NOT NULL,
                UNIQUE (dim, value));
            CREATE TABLE staging_dims (
                ad_name VARCHAR NOT NULL,
                campaign_id VARCHAR NOT NULL,
                minute BIGINT NOT NULL,
                dim TINYINT NOT NULL,
                value VARCHAR NOT NULL,
                clicks BIGINT NOT NULL,
                invalid_clicks BIGINT NOT NULL);
            CREATE TABLE reconciled_windows (
                window_from TIMESTAMP NOT NULL,
                window_to TIMESTAMP NOT NULL);
            CREATE TABLE staging_buckets (
                ad_name VARCHAR NOT NULL,
                advertiser_id VARCHAR NOT NULL,
                campaign_id VARCHAR NOT NULL,
                ad_id VARCHAR NOT NULL,
                minute BIGINT NOT NULL,
                clicks BIGINT NOT NULL,
                invalid_clicks BIGINT NOT NULL{ReasonColumns(suffix: " BIGINT")});
            CREATE TABLE claims (
                id_hi UBIGINT NOT NULL,
                id_lo UBIGINT NOT NULL,
                click_time TIMESTAMP NOT NULL,
                log_partition VARCHAR NOT NULL,
                sequence BIGINT NOT NULL);
            CREATE TABLE positions (
                log_partition INTEGER PRIMARY KEY,
                next_sequence BIGINT NOT NULL);
            CREATE TABLE dead_letters (
                log_partition VARCHAR NOT NULL,
                sequence BIGINT NOT NULL,
                enqueued_time TIMESTAMP NOT NULL,
                reason VARCHAR NOT NULL,
                body BLOB NOT NULL);
            """);
        return sql.ToString();
    }

    public static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>The store file has a schema version this build does not open; the message says how to rebuild it.</summary>
public sealed class StoreVersionException(string path, int version) : InvalidOperationException(Describe(path, version))
{
    public string StorePath => path;

    public int FoundVersion => version;

    private static string Describe(string path, int version) => version < StoreSchema.Version
        ? $"The click store {path} has schema version {version}, written by an earlier ClickFunctions; this build needs version {StoreSchema.Version} "
            + (version == 2
                ? "and does not migrate it (version 3 added breakdowns by country, device, referrer and the other dimensions, which only a recount of the log can fill). "
                : "and does not migrate it (the old rows cannot be split back into exact advertiser/campaign/ad buckets). ")
            + "The click log holds every click: "
            + $"stop the host, move the store aside (mv {path} {path}.v{version}, and {path}.wal if present), then rebuild it from the log with "
            + "`reconcile --from <first minute> --to <minute after the last>` (given too narrow a window it prints the window that covers the whole log)."
        : $"The click store {path} has schema version {version}, written by a newer ClickFunctions; this build reads version {StoreSchema.Version}. "
            + "Run the newer build, or move the store aside and rebuild it from the log with `reconcile`.";
}
