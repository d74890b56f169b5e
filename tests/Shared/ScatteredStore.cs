using System.Globalization;
using ClickFunctions.Embedded.Store;
using DuckDB.NET.Data;

namespace ClickFunctions.Tests;

/// <summary>
/// A store of many ads written straight into DuckDB (seconds, where the consumer would take minutes): ad i is
/// <c>ad-{i}</c> of <c>advertiser(i)</c>, store id i + 1 with one campaign, and has one valid click in each of
/// <c>hours</c> consecutive hours from <c>start</c>. Rows go in time order, as the consumer writes them, so one ad's
/// rows are scattered over the whole file and reading every ad walks every part of the <c>page</c> index.
/// </summary>
internal static class ScatteredStore
{
    public static void Seed(string path, int ads, int hours, DateTimeOffset start, Func<int, string> advertiser)
    {
        using (new DuckDbClickStore(new ClickStoreOptions { Path = path, MemoryLimit = "1GB" }))
        {
            // Creates the schema.
        }
        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
        using (var appender = connection.CreateAppender("ads"))
        {
            for (int ad = 0; ad < ads; ad++)
            {
                string adId = "ad-" + ad.ToString(CultureInfo.InvariantCulture);
                appender.CreateRow().AppendValue(ad + 1).AppendValue(AdKey.Name(advertiser(ad), adId)).AppendValue(advertiser(ad)).AppendValue(adId).EndRow();
            }
        }
        long startHour = start.ToUnixTimeSeconds() / 3600;
        Execute(connection, string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO series SELECT i + 1, i + 1, 'cmp' FROM range({ads}) r(i);
            INSERT INTO clicks_hour (k, page, series, bucket_start, clicks, invalid_clicks)
            SELECT (a + 1) * 4294967296 + {startHour} + h, (a + 1) * {AdKey.PagesPerAd} + ({startHour} + h) // {AdKey.PageBuckets}, a + 1, epoch_ms(({startHour} + h) * 3600000), 1, 0
            FROM range({hours}) t(h), range({ads}) s(a) ORDER BY h;
            CHECKPOINT;
            """));
    }

    /// <summary>Runs <paramref name="sql"/> on <paramref name="path"/> (in-process, sharing an open store's database).</summary>
    public static void Execute(string path, string sql)
    {
        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
        Execute(connection, sql);
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The order the tests read the ads in: every ad once, scattered (7,919 is prime).</summary>
    public static IEnumerable<int> ReadOrder(int ads) => Enumerable.Range(0, ads).Select(i => (int)((i * 7919L) % ads));
}
