namespace ClickFunctions.Tests;

/// <summary>
/// Two advertisers' ads whose ad keys collide under store schema version 1 (FNV-1a 64 over the UTF-16 code units of
/// "advertiser\nad"; issue 12, finding 1). Found once with a Pollard-rho collision search with distinguished points
/// (a small C program): candidates "acme\nad-" or "globex\nad-" followed by 11 characters of [A-Za-z0-9_-] drawn from
/// a 64-bit state, the state stepped by the hash itself; the first cross-advertiser collision came after ~9.9e9 hash
/// evaluations (about 8 minutes on one core). Compiled into the Embedded and Local test projects (with <see cref="LegacyStore"/>).
/// </summary>
internal static class CollidingAds
{
    public const string AcmeAd = "ad-KvldelJWGPC", GlobexAd = "ad-S9gnmSUkJAF";

    public const ulong Key = 0xd5c2f82ff877b08eUL;

    /// <summary>The ad key of store schema version 1.</summary>
    public static ulong LegacyAdKey(string advertiserId, string adId)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in advertiserId + "\n" + adId)
        {
            hash = (hash ^ c) * 1099511628211;
        }
        return hash;
    }
}

/// <summary>A store file as schema version 1 created it (rollups and an ads table keyed by the FNV-1a ad key).</summary>
internal static class LegacyStore
{
    public static void CreateVersion1(string path)
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE clicks_minute (k HUGEINT PRIMARY KEY, page HUGEINT NOT NULL, advertiser_id VARCHAR NOT NULL, campaign_id VARCHAR NOT NULL,
                ad_id VARCHAR NOT NULL, bucket_start TIMESTAMP NOT NULL, clicks BIGINT NOT NULL, invalid_clicks BIGINT NOT NULL);
            CREATE INDEX clicks_minute_page ON clicks_minute (page);
            CREATE TABLE ads (ad_key BIGINT PRIMARY KEY, advertiser_id VARCHAR NOT NULL, ad_id VARCHAR NOT NULL, campaign_id VARCHAR NOT NULL);
            INSERT INTO ads VALUES (1, 'adv-1', 'ad-1', 'cmp-1');
            """;
        command.ExecuteNonQuery();
    }
}
