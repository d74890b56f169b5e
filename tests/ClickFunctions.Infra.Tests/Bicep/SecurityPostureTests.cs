using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Bicep;

/// <summary>The security posture, asserted over the ARM template that `bicep build` compiles from infra/main.bicep.</summary>
public sealed partial class SecurityPostureTests
{
    // Holds no secret: it names the Application Insights resource and its ingestion endpoint. The component has
    // local authentication disabled, so telemetry is accepted only with the Entra token that
    // APPLICATIONINSIGHTS_AUTHENTICATION_STRING (Authorization=AAD) makes the exporter fetch.
    private const string AppInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    private static readonly string[] SecretMarkers =
    [
        "AccountKey", "SharedAccessKey", "SharedAccessSignature", "listKeys(", "listConnectionStrings(",
        "listAccountSas(", "listServiceSas(", "primaryKey", "secondaryKey", "connectionString", "InstrumentationKey=",
    ];

    private static readonly string[] BroadRoles =
    [
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", // Owner
        "b24988ac-6180-42a0-ab88-20f7382dd24c", // Contributor
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", // User Access Administrator
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168", // Role Based Access Control Administrator
    ];

    [Fact]
    public async Task App_settings_hold_no_connection_strings_or_keys()
    {
        var settings = await AppSettingsAsync();

        Assert.NotEmpty(settings);
        foreach (var (name, value) in settings)
        {
            if (name == AppInsightsConnectionString)
            {
                continue;
            }

            Assert.DoesNotContain("connectionstring", name.ToLowerInvariant(), StringComparison.Ordinal);
            Assert.NotEqual("AzureWebJobsStorage", name);
            foreach (var marker in SecretMarkers)
            {
                Assert.False(
                    value.Contains(marker, StringComparison.OrdinalIgnoreCase),
                    $"app setting {name} = {value} looks like it carries a secret ({marker})");
            }
        }
    }

    [Fact]
    public async Task Application_insights_accepts_only_entra_authenticated_telemetry()
    {
        var template = await BicepCli.MainTemplateAsync();
        var settings = await AppSettingsAsync();

        var component = Assert.Single(template.Created("Microsoft.Insights/components"));
        Assert.True(component.Properties!["DisableLocalAuth"]!.GetValue<bool>());
        Assert.Contains("Authorization=AAD", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], StringComparison.Ordinal);
        Assert.Contains("ConnectionString", settings[AppInsightsConnectionString], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secrets_reach_the_app_only_as_key_vault_references()
    {
        var settings = await AppSettingsAsync();

        foreach (var name in new[] { "ClickSigning__Key", "ClickSigning__PreviousKey", "Privacy__FingerprintSecret" })
        {
            Assert.StartsWith("[format('@Microsoft.KeyVault(SecretUri={0})'", settings[name], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Connections_use_the_apps_managed_identity()
    {
        var settings = await AppSettingsAsync();

        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("managedidentity", settings["EventHubs__credential"]);
        Assert.Contains("AzureWebJobsStorage__accountName", settings.Keys);
        Assert.Contains("EventHubs__fullyQualifiedNamespace", settings.Keys);
    }

    [Fact]
    public async Task Storage_accounts_disable_shared_key_access()
    {
        var template = await BicepCli.MainTemplateAsync();

        var accounts = template.Created("Microsoft.Storage/storageAccounts");

        Assert.NotEmpty(accounts);
        Assert.All(accounts, a =>
        {
            Assert.False(a.Properties!["allowSharedKeyAccess"]!.GetValue<bool>());
            Assert.False(a.Properties!["allowBlobPublicAccess"]!.GetValue<bool>());
        });
    }

    [Fact]
    public async Task Event_hubs_disables_local_auth_and_captures_the_clicks_hub_in_avro()
    {
        var template = await BicepCli.MainTemplateAsync();

        var ns = Assert.Single(template.Created("Microsoft.EventHub/namespaces"));
        Assert.True(ns.Properties!["disableLocalAuth"]!.GetValue<bool>());

        var hub = Assert.Single(template.Created("Microsoft.EventHub/namespaces/eventhubs"));
        var capture = hub.Properties!["captureDescription"]!;
        Assert.True(capture["enabled"]!.GetValue<bool>());
        Assert.Equal("Avro", (string?)capture["encoding"]);
        Assert.Equal("EventHubArchive.AzureBlockBlob", (string?)capture["destination"]!["name"]);
        Assert.Equal("SystemAssigned", (string?)capture["destination"]!["identity"]!["type"]);
    }

    [Fact]
    public async Task Every_role_assignment_is_scoped_to_a_single_resource_and_named_by_guid()
    {
        var template = await BicepCli.MainTemplateAsync();

        var assignments = template.Created("Microsoft.Authorization/roleAssignments");

        Assert.True(assignments.Count >= 7, $"expected the app's and Capture's role assignments, found {assignments.Count}");
        Assert.All(assignments, a =>
        {
            Assert.StartsWith("[guid(", a.Name, StringComparison.Ordinal);
            var scope = (string?)a.Node["scope"];
            Assert.False(string.IsNullOrEmpty(scope), $"{a} has no scope, so it applies to the whole resource group");
            Assert.Matches(ResourceScope(), scope);
            Assert.DoesNotContain("resourceGroup()", scope, StringComparison.Ordinal);
            Assert.DoesNotContain("subscription()", scope, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task No_role_assignment_grants_a_broad_role()
    {
        var template = await BicepCli.MainTemplateAsync();

        Assert.All(BroadRoles, role => Assert.DoesNotContain(role, template.Json, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Key_vault_authorizes_with_rbac_and_keeps_deleted_secrets()
    {
        var template = await BicepCli.MainTemplateAsync();

        var vault = Assert.Single(template.Created("Microsoft.KeyVault/vaults"));

        Assert.True(vault.Properties!["enableRbacAuthorization"]!.GetValue<bool>());
        Assert.True(vault.Properties!["enableSoftDelete"]!.GetValue<bool>());
        // No purge protection: see KeyVaultTests and docs/decisions/045-infra-key-vault-without-purge-protection.md.
        Assert.Null(vault.Properties!["enablePurgeProtection"]);
    }

    [Fact]
    public async Task Function_app_runs_dotnet_isolated_10_on_flex_consumption_with_a_user_assigned_identity()
    {
        var template = await BicepCli.MainTemplateAsync();

        var plan = Assert.Single(template.Created("Microsoft.Web/serverfarms"));
        var app = Assert.Single(template.Created("Microsoft.Web/sites"));

        Assert.Equal("FlexConsumption", (string?)plan.Node["sku"]!["tier"]);
        Assert.Equal("UserAssigned", (string?)app.Node["identity"]!["type"]);
        Assert.True(app.Properties!["httpsOnly"]!.GetValue<bool>());
        var runtime = app.Properties!["functionAppConfig"]!["runtime"]!;
        Assert.Equal("dotnet-isolated", (string?)runtime["name"]);
        Assert.Equal("10.0", (string?)runtime["version"]);
        Assert.Equal("UserAssignedIdentity", (string?)app.Properties!["functionAppConfig"]!["deployment"]!["storage"]!["authentication"]!["type"]);
    }

    [Fact]
    public async Task Easy_auth_requires_a_token_everywhere_except_the_click_route_and_the_API_description()
    {
        var template = await BicepCli.MainTemplateAsync();

        var auth = Assert.Single(template.Created("Microsoft.Web/sites/config"), c => c.Name.Contains("authsettingsV2", StringComparison.Ordinal));
        var validation = auth.Properties!["globalValidation"]!;

        Assert.True(validation["requireAuthentication"]!.GetValue<bool>());
        Assert.Equal("Return401", (string?)validation["unauthenticatedClientAction"]);
        Assert.Equal(["/c", "/openapi/v1.json", "/scalar", "/scalar/scalar.js", "/dashboard", .. ClickFunctions.Hosting.Http.DashboardFiles.PageAssets.Select(f => "/dashboard/" + f)], validation["excludedPaths"]!.AsArray().Select(p => (string?)p));
    }

    internal static async Task<Dictionary<string, string>> AppSettingsAsync()
    {
        var template = await BicepCli.MainTemplateAsync();
        var app = Assert.Single(template.Created("Microsoft.Web/sites"));
        return app.Properties!["siteConfig"]!["appSettings"]!.AsArray()
            .Select(s => s!.AsObject())
            .ToDictionary(s => (string)s["name"]!, s => s["value"] is JsonValue v ? v.ToString() : s["value"]!.ToJsonString());
    }

    // A resource path such as Microsoft.Storage/storageAccounts/{0}, in format(...) or resourceId(...).
    [GeneratedRegex(@"Microsoft\.[A-Za-z]+/[A-Za-z]+")]
    private static partial Regex ResourceScope();
}
