using System.Text.Json;
using System.Text.Json.Nodes;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Bicep;

/// <summary>The deployment and the app agree on setting names and on the names of hubs, containers and the database.</summary>
public sealed class AppContractTests
{
    private static readonly Dictionary<string, string> NotAppSettingsInAzure = new(StringComparer.Ordinal)
    {
        // Flex Consumption rejects it as an app setting; functionAppConfig.runtime says dotnet-isolated instead.
        ["FUNCTIONS_WORKER_RUNTIME"] = "functionAppConfig.runtime",
    };

    [Fact]
    public async Task Every_setting_of_the_local_sample_is_an_app_setting_in_azure()
    {
        var settings = await SecurityPostureTests.AppSettingsAsync();
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryPaths.LocalSettingsSample, TestContext.Current.CancellationToken))!;

        var expected = sample["Values"]!.AsObject().Select(p => p.Key)
            .Where(name => !NotAppSettingsInAzure.ContainsKey(name))
            // Per-deployment data, not template settings: advertiser principals (docs/deploy.md).
            .Where(name => !name.StartsWith("Advertisers__", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(expected);
        Assert.All(expected, name => Assert.Contains(name, settings.Keys));
    }

    /// <summary>
    /// Settings the Functions app's code reads with no Bicep-independent source: the admin API's admin
    /// (AdminPrincipalOptions, Admin:Role and Admin:PrincipalIds), its accounts table (AzureAdapters, Accounts:TableName),
    /// the query API's rate limits (RateLimitOptions) and the trace sampling ratio (TelemetryExtensions). Each must be
    /// set by the deployment and listed in the local sample, so an operator sees and can change it.
    /// </summary>
    [Theory]
    [InlineData("Admin__Role")]
    [InlineData("Admin__PrincipalIds")]
    [InlineData("Accounts__TableName")]
    [InlineData("RateLimits__PerKeyPerSecond")]
    [InlineData("RateLimits__PerKeyBurst")]
    [InlineData("RateLimits__FailedAuthBurst")]
    [InlineData("RateLimits__FailedAuthPerMinute")]
    [InlineData("Telemetry__TraceSamplingRatio")]
    public async Task A_setting_the_app_code_reads_is_set_by_the_bicep_and_listed_in_the_sample(string name)
    {
        var settings = await SecurityPostureTests.AppSettingsAsync();
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryPaths.LocalSettingsSample, TestContext.Current.CancellationToken))!["Values"]!.AsObject();

        Assert.Contains(name, settings.Keys);
        Assert.True(sample.ContainsKey(name), $"local.settings.sample.json lacks {name}");
        // The code reads the name with ':' for '__'; a renamed option would leave the setting dead.
        string key = name.Replace("__", ":", StringComparison.Ordinal);
        var source = string.Join('\n', Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "functions"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        string section = key[..key.IndexOf(':', StringComparison.Ordinal)], member = key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..];
        Assert.True(source.Contains($"\"{key}\"", StringComparison.Ordinal)
            || (source.Contains($"Section = \"{section}\"", StringComparison.Ordinal) && source.Contains($" {member} {{ get;", StringComparison.Ordinal)),
            $"no code under functions/ reads {key}");
    }

    [Fact]
    public async Task Accounts_and_rate_limit_settings_have_the_values_of_the_local_sample()
    {
        var settings = await SecurityPostureTests.AppSettingsAsync();
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryPaths.LocalSettingsSample, TestContext.Current.CancellationToken))!["Values"]!;

        foreach (var name in new[] { "Admin__Role", "Accounts__TableName", "RateLimits__PerKeyPerSecond", "RateLimits__PerKeyBurst",
            "RateLimits__FailedAuthBurst", "RateLimits__FailedAuthPerMinute", "Telemetry__TraceSamplingRatio" })
        {
            Assert.Equal((string?)sample[name], settings[name]);
        }
        // A deployment parameter (ADMIN_PRINCIPAL_IDS under azd), empty by default: the app role alone makes the admin.
        Assert.Equal("[parameters('adminPrincipalIds')]", settings["Admin__PrincipalIds"]);
    }

    [Fact]
    public async Task Azure_sets_no_app_setting_the_app_does_not_know()
    {
        var settings = await SecurityPostureTests.AppSettingsAsync();
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryPaths.LocalSettingsSample, TestContext.Current.CancellationToken))!;
        var known = sample["Values"]!.AsObject().Select(p => p.Key).ToHashSet();

        Assert.All(settings.Keys, name => Assert.Contains(name, known));
    }

    [Fact]
    public async Task Fixed_settings_have_the_values_of_the_local_sample()
    {
        var settings = await SecurityPostureTests.AppSettingsAsync();
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryPaths.LocalSettingsSample, TestContext.Current.CancellationToken))!["Values"]!;

        string[] fixedSettings =
        [
            "AzureWebJobsStorage__credential", "EventHubs__credential", "EventHubs__QueueCapacity", "EventHubs__MaxClicksPerCommit",
            "EventHubs__MaxConcurrentSends",
            "Claims__TablePrefix", "Claims__PartitionKeyDigits", "Reconcile__AllowedLateness", "Reconcile__Span", "RECONCILE_SCHEDULE", "LAG_MONITOR_SCHEDULE",
            "Kusto__Application", "Kusto__QueryTimeout", "Clicks__ClickIdParameter", "Dedup__Horizon",
        ];
        foreach (var name in fixedSettings)
        {
            Assert.Equal((string?)sample[name], settings[name]);
        }
    }

    [Fact]
    public async Task Hub_consumer_group_containers_and_database_have_the_names_the_app_uses()
    {
        var template = await BicepCli.MainTemplateAsync();

        var hub = Assert.Single(template.Created("Microsoft.EventHub/namespaces/eventhubs"));
        Assert.Equal("clicks", (string?)hub.Variable("eventHubName"));
        Assert.Equal("aggregator", (string?)hub.Variable("consumerGroupName"));

        var account = Assert.Single(template.Created("Microsoft.Storage/storageAccounts"));
        Assert.Equal("capture", (string?)account.Variable("captureContainerName"));
        Assert.Equal("reconciliation", (string?)account.Variable("reconciliationContainerName"));
        Assert.Equal("deadletters", (string?)account.Variable("deadLetterContainerName"));

        var database = Assert.Single(template.Created("Microsoft.Kusto/clusters/databases"));
        Assert.Equal("clicks", (string?)database.Variable("databaseName"));
    }

    [Fact]
    public async Task Kusto_cluster_enables_streaming_ingestion()
    {
        var template = await BicepCli.MainTemplateAsync();

        var cluster = Assert.Single(template.Created("Microsoft.Kusto/clusters"));

        Assert.True(cluster.Properties!["enableStreamingIngest"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Database_script_carries_every_kql_file_of_infra_kusto()
    {
        var template = await BicepCli.MainTemplateAsync();
        Assert.Single(template.Created("Microsoft.Kusto/clusters/databases/scripts"));
        var files = Directory.GetFiles(RepositoryPaths.KustoSchema, "*.kql");

        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var text = await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken);
            // loadTextContent inlines the file as a JSON string literal.
            var inlined = JsonSerializer.Serialize(text)[1..^1];
            Assert.True(template.Json.Contains(inlined, StringComparison.Ordinal), $"{Path.GetFileName(file)} is not loaded by the database script");
        }
    }

    [Fact]
    public async Task App_identity_is_ingestor_and_viewer_of_the_database_only()
    {
        var template = await BicepCli.MainTemplateAsync();

        var roles = template.Created("Microsoft.Kusto/clusters/databases/principalAssignments")
            .Select(a => (string?)a.Properties!["role"])
            .Order(StringComparer.Ordinal);

        Assert.Equal(["Ingestor", "Viewer"], roles);
        Assert.Empty(template.Created("Microsoft.Kusto/clusters/principalAssignments"));
    }
}
