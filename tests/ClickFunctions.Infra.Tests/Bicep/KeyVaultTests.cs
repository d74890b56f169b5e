using System.Text.Json.Nodes;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Bicep;

/// <summary>
/// The Key Vault can be deleted and deployed again under the same environment name. Rules: Microsoft Learn, "Azure
/// Key Vault soft-delete overview": a deleted vault stays recoverable (and its name taken) for the retention period
/// (7 to 90 days); with purge protection "a vault or an object in the deleted state cannot be purged until the
/// retention period has passed". Microsoft.KeyVault/vaults, enablePurgeProtection: enabling it is irreversible, "the
/// property does not accept false as its value". azd (Azure/azure-dev, cli/azd/pkg/infra/provisioning/bicep/
/// bicep_provider.go, getKeyVaultsToPurge): `azd down --purge` purges only vaults with soft delete and without purge
/// protection.
/// </summary>
public sealed class KeyVaultTests
{
    private static readonly Lazy<Task<JsonObject>> Vault = new(VaultAsync);

    private static async Task<JsonObject> VaultAsync()
    {
        var (result, snapshot) = await BicepCli.WithParametersAsync("snapshot", RepositoryPaths.MainBicep, BicepCli.RequiredMainParameters);
        Assert.True(result.ExitCode == 0, result.ToString());
        return Assert.Single(snapshot!["predictedResources"]!.AsArray(), r => (string?)r!["type"] == "Microsoft.KeyVault/vaults")!.AsObject();
    }

    [Fact]
    public async Task A_vault_whose_name_is_the_same_on_every_deployment_of_an_environment_is_not_purge_protected()
    {
        var first = await Vault.Value;
        var second = await VaultAsync();

        // The trap's first half: the deployment engine names the vault the same for the same environment.
        Assert.Equal((string?)first["name"], (string?)second["name"]);
        Assert.StartsWith("kv-clicks-", (string?)first["name"], StringComparison.Ordinal);
        // Its second half must not hold: the property is absent (true would block the name, false is refused).
        var properties = first["properties"]!.AsObject();
        Assert.False(properties.ContainsKey("enablePurgeProtection"), $"enablePurgeProtection = {properties["enablePurgeProtection"]}");
    }

    [Fact]
    public async Task The_vault_keeps_soft_delete_and_rbac_authorization()
    {
        var properties = (await Vault.Value)["properties"]!;

        Assert.True((bool)properties["enableSoftDelete"]!);
        Assert.InRange((int)properties["softDeleteRetentionInDays"]!, 7, 90);
        Assert.True((bool)properties["enableRbacAuthorization"]!);
    }
}
