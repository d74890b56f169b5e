using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Kusto;

/// <summary>
/// Row-level security as the sent database script leaves it. Microsoft Learn, "Row level security policy"
/// (https://learn.microsoft.com/kusto/management/row-level-security-policy), Limitations: "The RLS query can't
/// reference other tables that have Row Level Security policy enabled" and "can't reference tables in other databases".
/// </summary>
public sealed class RowLevelSecurityTests
{
    private static async Task<RowLevelSecurityGraph> GraphAsync() =>
        RowLevelSecurityGraph.Build(DatabaseScript.Commands(await DatabaseScript.AsSentAsync()));

    [Fact]
    public async Task No_rls_query_reaches_through_functions_a_table_or_view_that_has_rls()
    {
        var graph = await GraphAsync();

        var violations = graph.Violations();

        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public async Task The_graph_follows_the_policies_through_the_functions_they_call()
    {
        var graph = await GraphAsync();

        // Non-vacuous: the click table and every view are protected, and their policies reach the mapping tables
        // only through ClickBucketsRls() -> VisibleAdvertiserIds() / SeesAllAdvertisers().
        Assert.Equal(["ClickBuckets", "ClickBucketsDedup", "ClicksPerDay", "ClicksPerHour", "ClicksPerMinute", "DimensionsPerDay", "DimensionsPerQuarterHour"], graph.Protected.Order(StringComparer.Ordinal));
        var table = Assert.Single(graph.Policies, p => p.Entity == "ClickBuckets");
        Assert.Equal("ClickBucketsRls()", table.Query);
        Assert.Equal(["AdvertiserPrincipals", "ClickBuckets", "ServicePrincipals"], table.Reaches.Order(StringComparer.Ordinal));
        Assert.All(graph.Policies.Where(p => p.Enabled), p => Assert.Contains("AdvertiserPrincipals", p.Reaches));
    }

    [Fact]
    public async Task The_mapping_tables_end_without_row_level_security()
    {
        var graph = await GraphAsync();

        Assert.DoesNotContain("AdvertiserPrincipals", graph.Protected);
        Assert.DoesNotContain("ServicePrincipals", graph.Protected);
        // The script disables the policy an earlier version enabled, so a database that ran it follows the rule too.
        Assert.Contains(graph.Policies, p => p.Entity == "AdvertiserPrincipals" && !p.Enabled);
    }

    [Fact]
    public async Task The_check_finds_a_policy_on_a_table_that_the_other_policies_read()
    {
        // What 04-security.kql did before issue 10: row-level security on AdvertiserPrincipals as well.
        var script = await DatabaseScript.AsSentAsync()
            + "\n\n.alter table AdvertiserPrincipals policy row_level_security enable \"AdvertiserPrincipals | where PrincipalId == current_principal() or SeesAllAdvertisers()\"\n";

        var violations = RowLevelSecurityGraph.Build(DatabaseScript.Commands(script)).Violations();

        Assert.Contains("the RLS query of ClickBuckets reaches AdvertiserPrincipals, which has row-level security", violations);
        // One per protected entity (the table and its six views).
        Assert.Equal(7, violations.Count);
    }
}
