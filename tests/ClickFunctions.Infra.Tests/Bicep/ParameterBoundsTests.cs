using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Bicep;

/// <summary>SKU parameters stay within what the services accept.</summary>
public sealed class ParameterBoundsTests
{
    // An ADX cluster on an SLA (Standard tier) SKU runs at least two instances; only the Dev(No SLA) SKUs run one,
    // and always exactly one (Microsoft Learn, "Select a SKU for your Azure Data Explorer cluster"
    // (manage-cluster-choose-sku) and "Manage cluster horizontal scaling"; the provider refuses capacity 1 on a
    // Standard SKU). A capacity of 1 would fail the deployment of the cluster.
    [Theory]
    [InlineData("main.bicep", "kustoCapacity")]
    [InlineData("modules/kusto.bicep", "capacity")]
    public async Task The_adx_instance_count_cannot_go_below_two(string file, string parameter)
    {
        var template = await CompileAsync(file);

        var declared = template.Root["parameters"]![parameter]!;

        Assert.True((int)declared["minValue"]! >= 2, $"{file} {parameter} allows {declared["minValue"]}");
        Assert.True((int?)declared["defaultValue"] is null or >= 2);
    }

    [Fact]
    public async Task The_compiler_refuses_a_deployment_with_one_adx_instance()
    {
        var values = new Dictionary<string, string>(BicepCli.RequiredMainParameters) { ["kustoCapacity"] = "1" };

        var (result, _) = await BicepCli.WithParametersAsync("build-params", RepositoryPaths.MainBicep, values);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("BCP328", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("'Standard_E2ads_v5'", "Standard", 2)]
    [InlineData("'Dev(No SLA)_Standard_E2a_v4'", "Basic", 1)]
    public async Task The_cluster_gets_the_tier_and_instance_count_its_sku_needs(string sku, string tier, int capacity)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["clusterName"] = "'adxclickstest'",
            ["location"] = "'westeurope'",
            ["tags"] = "{}",
            ["skuName"] = sku,
            ["capacity"] = "2",
            ["appClientId"] = $"'{DatabaseScript.AppClientId}'",
            ["tenantId"] = $"'{DatabaseScript.TenantId}'",
        };

        var (result, snapshot) = await BicepCli.WithParametersAsync("snapshot", Path.Combine(RepositoryPaths.Infra, "modules", "kusto.bicep"), values);

        Assert.True(result.ExitCode == 0, result.ToString());
        var cluster = Assert.Single(snapshot!["predictedResources"]!.AsArray(), r => (string?)r!["type"] == "Microsoft.Kusto/clusters")!;
        Assert.Equal(tier, (string?)cluster["sku"]!["tier"]);
        Assert.Equal(capacity, (int)cluster["sku"]!["capacity"]!);
        var autoscale = cluster["properties"]!["optimizedAutoscale"];
        if (autoscale is not null)
        {
            Assert.True((int)autoscale["minimum"]! >= 2);
            Assert.True((int)autoscale["maximum"]! >= (int)autoscale["minimum"]!);
        }
    }

    private static async Task<ArmTemplate> CompileAsync(string file)
    {
        if (file == "main.bicep")
        {
            return await BicepCli.MainTemplateAsync();
        }
        var result = await BicepCli.RunAsync("build", Path.Combine(RepositoryPaths.Infra, file), "--stdout");
        Assert.True(result.ExitCode == 0, result.ToString());
        return new ArmTemplate(System.Text.Json.Nodes.JsonNode.Parse(result.StandardOutput)!.AsObject());
    }
}
