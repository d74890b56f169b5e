using System.Text.RegularExpressions;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Kusto;

/// <summary>Every KQL text of the repository, checked by the official Kusto language service against the ADX schema.</summary>
public sealed partial class KqlSchemaTests
{
    private static readonly Lazy<Task<KqlCheckResult>> Repository = new(() =>
        KqlChecker.CheckAsync([RepositoryPaths.KustoSchema], [RepositoryPaths.Functions]));

    [Fact]
    public async Task Every_kql_file_in_infra_and_functions_parses_and_binds_against_the_declared_schema()
    {
        var result = await Repository.Value;

        Assert.True(result.Errors.Count == 0, string.Join('\n', result.Errors));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task The_check_covers_every_kql_file_of_infra_kusto_and_of_functions()
    {
        var result = await Repository.Value;
        var expected = Directory.GetFiles(RepositoryPaths.KustoSchema, "*.kql", SearchOption.AllDirectories)
            .Concat(Directory.Exists(RepositoryPaths.Functions)
                ? Directory.GetFiles(RepositoryPaths.Functions, "*.kql", SearchOption.AllDirectories)
                : [])
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(RepositoryPaths.Root, f))
            .ToList();

        Assert.NotEmpty(expected);
        Assert.All(expected, file => Assert.Contains(file, result.CheckedFiles));
    }

    [Fact]
    public async Task The_bucket_table_has_the_columns_the_app_ingests()
    {
        var result = await Repository.Value;

        Assert.Equal(
            ["RowId:string", "AdvertiserId:string", "CampaignId:string", "AdId:string", "BucketStart:datetime", "Clicks:long",
             "InvalidClicks:long", "InvalidByReason:dynamic", "Source:string", "BatchId:string", "Dimension:string", "DimensionValue:string",
             "DimensionClicks:long", "DimensionInvalidClicks:long"],
            result.Columns("ClickBuckets"));
        Assert.Equal(["PrincipalId:string", "AdvertiserId:string"], result.Columns("AdvertiserPrincipals"));
        Assert.Equal(["WindowFrom:datetime", "WindowTo:datetime", "Status:string", "RecordedAt:datetime"], result.Columns("ReconciledWindows"));
    }

    [Theory]
    [InlineData("ClickBucketsDedup")]
    [InlineData("ClicksPerMinute")]
    [InlineData("ClicksPerHour")]
    [InlineData("ClicksPerDay")]
    [InlineData("DimensionsPerQuarterHour")]
    [InlineData("DimensionsPerDay")]
    public async Task The_materialized_view_exists_with_clicks_per_ad_and_bucket(string view)
    {
        var result = await Repository.Value;

        var columns = result.Columns(view);

        Assert.Contains("AdId:string", columns);
        Assert.Contains("AdvertiserId:string", columns);
        Assert.Contains("BucketStart:datetime", columns);
        Assert.Contains("Clicks:long", columns);
        Assert.Contains("InvalidClicks:long", columns);
    }

    [Fact]
    public async Task Advertisers_can_call_ad_clicks_and_advertiser_ads()
    {
        var result = await Repository.Value;
        var functions = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.KustoSchema, "03-functions.kql"), TestContext.Current.CancellationToken);

        Assert.Contains("AdClicks", result.Functions);
        Assert.Contains("AdvertiserAds", result.Functions);
        Assert.Contains("AdClicks(adId:string, fromTime:datetime, toTime:datetime, granularity:string)", functions, StringComparison.Ordinal);
        Assert.Contains("AdvertiserAds(fromTime:datetime, toTime:datetime)", functions, StringComparison.Ordinal);
    }

    /// <summary>
    /// Decision 095: the bucket functions say, per bucket, whether reconciliation confirmed it, as a bool column Final
    /// (where takes only a bool predicate). The breakdowns have no buckets and no Final: the same use of it there is
    /// an error, so the check would see a missing or misnamed column.
    /// </summary>
    [Fact]
    public async Task The_bucket_functions_answer_a_boolean_Final_per_bucket_and_the_breakdowns_none()
    {
        var directory = Directory.CreateTempSubdirectory("kql-final-");
        try
        {
            const string Use = "\n| where Final or not(Final)\n| project BucketStart, Clicks, InvalidClicks, Final\n";
            string zone = Path.Combine(directory.FullName, "zone.kql"), utc = Path.Combine(directory.FullName, "utc.kql"), breakdown = Path.Combine(directory.FullName, "breakdown.kql");
            await File.WriteAllTextAsync(zone, "AdClicksInZone('ad-1', datetime(2026-03-08), datetime(2026-03-09), 'day', 'America/New_York')" + Use, TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(utc, "AdClicks('ad-1', datetime(2026-03-08), datetime(2026-03-09), 'hour')" + Use, TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(breakdown, "AdBreakdown('ad-1', 'country', datetime(2026-03-08), datetime(2026-03-09), 10)\n| where Final\n", TestContext.Current.CancellationToken);

            var result = await KqlChecker.CheckAsync([RepositoryPaths.KustoSchema], [zone, utc, breakdown]);

            var error = Assert.Single(result.Errors);
            Assert.EndsWith("breakdown.kql", error.File, StringComparison.Ordinal);
            Assert.Contains("Final", error.Message, StringComparison.Ordinal);
            Assert.Contains("FinalBucketStarts", result.Functions);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Rollups_read_the_dedup_view_and_the_dedup_view_takes_any_row_per_row_id()
    {
        var views = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.KustoSchema, "02-views.kql"), TestContext.Current.CancellationToken);

        Assert.Contains("ClickBucketsDedup on table ClickBuckets { ClickBuckets | summarize take_any(*) by RowId }", views, StringComparison.Ordinal);
        foreach (var rollup in new[] { "ClicksPerMinute", "ClicksPerHour", "ClicksPerDay" })
        {
            Assert.Contains($"{rollup} on materialized-view ClickBucketsDedup {{ ClickBucketsDedup |", views, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Every_table_and_view_with_click_data_has_row_level_security()
    {
        var result = await Repository.Value;
        var security = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.KustoSchema, "04-security.kql"), TestContext.Current.CancellationToken);
        var secured = RowLevelSecurity().Matches(security).Select(m => m.Groups["name"].Value).ToHashSet();

        var entities = result.Report["tables"]!.AsObject().Select(p => p.Key)
            .Concat(result.Report["materializedViews"]!.AsObject().Select(p => p.Key))
            // The principal mapping tables hold no click data, and the RLS queries read them, so they cannot have
            // row-level security themselves (RowLevelSecurityTests). ReconciledWindows holds only time windows, the
            // same for every advertiser (decision 095).
            .Where(name => name is not "ServicePrincipals" and not "AdvertiserPrincipals" and not "ReconciledWindows")
            .ToList();

        Assert.Contains("ClickBuckets", entities);
        Assert.All(entities, name => Assert.Contains(name, secured));
    }

    [Fact]
    public async Task The_json_mapping_reads_the_camel_case_property_of_every_column()
    {
        var result = await Repository.Value;
        var tables = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.KustoSchema, "01-tables.kql"), TestContext.Current.CancellationToken);
        var mapping = Assert.Single(tables.Split('\n'), l => l.Contains("ingestion json mapping \"ClickBucketsJson\"", StringComparison.Ordinal));

        foreach (var column in result.Columns("ClickBuckets").Select(c => c.Split(':')[0]))
        {
            var path = $"$.{char.ToLowerInvariant(column[0])}{column[1..]}";
            Assert.Contains($"\"column\":\"{column}\",\"path\":\"{path}\"", mapping, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_bucket_table_accepts_streaming_ingestion_and_every_entity_has_a_retention_policy()
    {
        var result = await Repository.Value;
        var script = string.Join('\n', Directory.GetFiles(RepositoryPaths.KustoSchema, "*.kql").Select(File.ReadAllText));

        Assert.Contains(".alter table ClickBuckets policy streamingingestion enable", script, StringComparison.Ordinal);
        Assert.Contains(".alter table ReconciledWindows policy streamingingestion enable", script, StringComparison.Ordinal);
        foreach (var view in result.Report["materializedViews"]!.AsObject().Select(p => p.Key).Append("ClickBuckets").Append("ReconciledWindows"))
        {
            Assert.Matches($@"\.alter-merge (table|materialized-view) {view} policy retention softdelete = \d+d", script);
            Assert.Matches($@"\.alter (table|materialized-view) {view} policy caching hot = \d+d", script);
        }
    }

    [GeneratedRegex(@"^\.alter (table|materialized-view) (?<name>\w+) policy row_level_security enable ", RegexOptions.Multiline)]
    private static partial Regex RowLevelSecurity();
}
