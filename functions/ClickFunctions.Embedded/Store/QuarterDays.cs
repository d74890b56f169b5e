using System.Globalization;
using ClickFunctions.Aggregation;
using ClickFunctions.Clicks;
using DuckDB.NET.Data;

namespace ClickFunctions.Embedded.Store;

/// <summary>
/// Closed UTC days compacted into one row per (series, day): the day's quarter hours, valid and invalid by reason, in
/// one blob (<c>clicks_quarters</c>), with the compacted days listed in <c>quarter_days</c>
/// (docs/decisions/104-closed-days-compacted-into-quarter-hour-rows.md). A query that tiles local days or weeks by UTC
/// hours and minutes reads one row per UTC day there instead of up to 96 minute or 24 hour rows, each fetched row by row
/// through the page index. The minute and hour rows stay: they are the source of a compaction and what everything
/// else reads. Exactness: a day is compacted from its minute rows in one transaction, and any batch that writes a
/// bucket of a compacted day deletes that day's rows and mark in its own transaction (<see cref="StoreWriter"/>), so
/// a compacted day's blob always equals its minute rows; the next compaction pass compacts it again.
/// </summary>
internal static class QuarterDays
{
    /// <summary>The blob's first byte. A reader refuses any other (a newer build's format) rather than misread it.</summary>
    public const byte FormatVersion = 1;

    public const int QuartersPerDay = 96;

    /// <summary>Days per page of <c>clicks_quarters</c>: a month's query reads one or two pages of an ad.</summary>
    public const long PageDays = 32;

    public static long PageKey(int adId, long day) => (adId * AdKey.PagesPerAd) + (day / PageDays);

    public const string TablesSql = """
        CREATE TABLE clicks_quarters (
            k BIGINT NOT NULL,
            page BIGINT NOT NULL,
            day INTEGER NOT NULL,
            quarters BLOB NOT NULL);
        CREATE INDEX clicks_quarters_page ON clicks_quarters (page);
        CREATE TABLE quarter_days (day INTEGER PRIMARY KEY);

        """;

    /// <summary>The compacted days (Unix day numbers) in [<paramref name="from"/>, <paramref name="to"/>), as committed.</summary>
    public static HashSet<long> Load(DuckDBConnection connection, DuckDBTransaction? transaction = null, long from = int.MinValue, long to = int.MaxValue)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"SELECT day FROM quarter_days WHERE day >= {from} AND day < {to}");
        var days = new HashSet<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            days.Add(reader.GetInt32(0));
        }
        return days;
    }

    /// <summary>Deletes a day's compacted rows and its mark (inside the caller's transaction).</summary>
    public static void Forget(DuckDBConnection connection, long day)
    {
        StoreSchema.Execute(connection, string.Create(CultureInfo.InvariantCulture, $"DELETE FROM clicks_quarters WHERE day = {day}; DELETE FROM quarter_days WHERE day = {day}"));
    }

    /// <summary>
    /// Compacts UTC day <paramref name="day"/> from its minute rows, in one transaction; returns the rows written. The
    /// caller holds the writer and has checked that the day's minute rows are complete (closed, within retention).
    /// </summary>
    public static int Compact(DuckDBConnection connection, long day)
    {
        using var transaction = connection.BeginTransaction();
        Forget(connection, day);
        var rows = new List<(long K, long Page, byte[] Blob)>();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            // The minute rows of one day sit in the row groups appended that day (zone maps on the key cut the scan).
            command.CommandText = string.Create(CultureInfo.InvariantCulture, $"""
                SELECT r.series, x.ad, ((r.k & {AdKey.BucketMask}) - {day * 1440}) // 15 AS q, sum(r.clicks)::BIGINT{StoreSchema.ReasonColumns("sum(r.", ")::BIGINT")}
                FROM clicks_minute r JOIN series x ON x.id = r.series
                WHERE r.bucket_start >= $from AND r.bucket_start < $to
                GROUP BY r.series, x.ad, q
                ORDER BY r.series, q
                """);
            command.Parameters.Add(new DuckDBParameter("from", DateTime.UnixEpoch.AddDays(day)));
            command.Parameters.Add(new DuckDBParameter("to", DateTime.UnixEpoch.AddDays(day + 1)));
            using var reader = command.ExecuteReader();
            var blob = new Encoder();
            long series = -1;
            int ad = 0;
            Span<long> slots = stackalloc long[BucketCounts.ReasonSlots];
            while (reader.Read())
            {
                long s = reader.GetInt32(0);
                if (s != series)
                {
                    if (series >= 0)
                    {
                        rows.Add(((series << 32) + day, PageKey(ad, day), blob.ToArray()));
                    }
                    series = s;
                    ad = reader.GetInt32(1);
                    blob.Reset();
                }
                slots.Clear();
                for (int i = 0; i < StoreSchema.InvalidReasons.Length; i++)
                {
                    slots[(int)StoreSchema.InvalidReasons[i]] = reader.GetInt64(4 + i);
                }
                blob.Add((int)reader.GetInt64(2), reader.GetInt64(3), slots);
            }
            if (series >= 0)
            {
                rows.Add(((series << 32) + day, PageKey(ad, day), blob.ToArray()));
            }
        }
        using (var appender = connection.CreateAppender("clicks_quarters"))
        {
            foreach (var (k, page, bytes) in rows)
            {
                appender.CreateRow().AppendValue(k).AppendValue(page).AppendValue((int)day).AppendValue(bytes).EndRow();
            }
        }
        StoreSchema.Execute(connection, string.Create(CultureInfo.InvariantCulture, $"INSERT INTO quarter_days VALUES ({day})"));
        transaction.Commit();
        return rows.Count;
    }

    /// <summary>
    /// Writes a day's quarters: the version byte, then per non-empty quarter in ascending order its index, the clicks
    /// (zigzag varint), a varint mask of the reasons (bit = <see cref="ClickReason"/> value) with a count, and each
    /// such count (zigzag varint) in ascending reason order.
    /// </summary>
    public sealed class Encoder
    {
        private readonly List<byte> _bytes = [FormatVersion];

        public void Reset()
        {
            _bytes.Clear();
            _bytes.Add(FormatVersion);
        }

        public void Add(int quarter, long clicks, ReadOnlySpan<long> reasonSlots)
        {
            if (quarter is < 0 or >= QuartersPerDay)
            {
                throw new ArgumentOutOfRangeException(nameof(quarter), quarter, "A UTC day has 96 quarter hours.");
            }
            _bytes.Add((byte)quarter);
            WriteVarint(Zigzag(clicks));
            ulong mask = 0;
            for (int r = 1; r < reasonSlots.Length; r++)
            {
                if (reasonSlots[r] != 0)
                {
                    mask |= 1UL << r;
                }
            }
            WriteVarint(mask);
            for (int r = 1; r < reasonSlots.Length; r++)
            {
                if (reasonSlots[r] != 0)
                {
                    WriteVarint(Zigzag(reasonSlots[r]));
                }
            }
        }

        public byte[] ToArray() => [.. _bytes];

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.Add((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.Add((byte)value);
        }

        private static ulong Zigzag(long value) => (ulong)((value << 1) ^ (value >> 63));
    }

    /// <summary>Reads a blob written by <see cref="Encoder"/>; a blob of another version or reason the build does not know throws.</summary>
    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _blob;
        private int _at;

        public Reader(ReadOnlySpan<byte> blob)
        {
            if (blob.Length == 0 || blob[0] != FormatVersion)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"A compacted day in the click store has format {(blob.Length == 0 ? "(empty)" : blob[0].ToString(CultureInfo.InvariantCulture))}; this build reads format {FormatVersion}. The store was written by a newer ClickFunctions: run that build."));
            }
            _blob = blob;
            _at = 1;
        }

        /// <summary>The next quarter, its clicks and its invalid clicks by reason slot (cleared first); false at the end.</summary>
        public bool Next(out int quarter, out long clicks, scoped Span<long> reasonSlots)
        {
            if (_at >= _blob.Length)
            {
                quarter = 0;
                clicks = 0;
                return false;
            }
            quarter = _blob[_at++];
            clicks = Unzigzag(ReadVarint());
            ulong mask = ReadVarint();
            reasonSlots.Clear();
            for (int r = 1; mask >> r != 0; r++)
            {
                if ((mask & (1UL << r)) == 0)
                {
                    continue;
                }
                if (r >= reasonSlots.Length)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"A compacted day in the click store counts invalid reason {r}, which this build does not know. The store was written by a newer ClickFunctions: run that build."));
                }
                reasonSlots[r] = Unzigzag(ReadVarint());
            }
            if (quarter >= QuartersPerDay)
            {
                throw new InvalidDataException("A compacted day in the click store names a quarter hour past the day's 96: the blob is damaged.");
            }
            return true;
        }

        private ulong ReadVarint()
        {
            ulong value = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_at >= _blob.Length)
                {
                    throw new InvalidDataException("A compacted day in the click store ends inside a number: the blob is damaged.");
                }
                byte b = _blob[_at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
            throw new InvalidDataException("A compacted day in the click store holds a number longer than 64 bits: the blob is damaged.");
        }

        private static long Unzigzag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
    }
}
