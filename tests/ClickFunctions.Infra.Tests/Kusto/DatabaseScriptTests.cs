using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Kusto;

/// <summary>The database script exactly as the kusto module sends it to Microsoft.Kusto/clusters/databases/scripts.</summary>
public sealed class DatabaseScriptTests
{
    // Microsoft Learn, "Configure a database using a Kusto Query Language script"
    // (https://learn.microsoft.com/azure/data-explorer/database-script): "The script can only run database-level
    // management commands that start with the following verbs: .create, .create-or-alter, .create-merge, .alter,
    // .alter-merge, .add". Cluster-level commands, such as .alter cluster policies, are not supported. Anything else
    // fails the resource ("The provided script contains unsupported command"), and with continueOnErrors: false the
    // whole kusto module, so the Function App is never deployed.
    private static readonly HashSet<string> AllowedVerbs = new(StringComparer.Ordinal)
    {
        ".create", ".create-or-alter", ".create-merge", ".alter", ".alter-merge", ".add",
    };

    public static IReadOnlyList<string> Problems(IEnumerable<KustoCommand> commands) =>
        commands.SelectMany(c => new[]
            {
                AllowedVerbs.Contains(c.Verb) ? null : $"{c}: verb {c.Verb} is not one a database script may run",
                c.Target == "cluster" ? $"{c}: a cluster-level command" : null,
            })
            .OfType<string>()
            .ToList();

    [Fact]
    public async Task Every_command_of_the_sent_script_starts_with_a_verb_the_script_resource_accepts()
    {
        var commands = DatabaseScript.Commands(await DatabaseScript.AsSentAsync());

        Assert.True(commands.Count >= 30, $"expected the whole schema, found {commands.Count} commands");
        var problems = Problems(commands);
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void The_verb_check_rejects_data_commands_and_cluster_commands()
    {
        // What 05-app-principal.kql sent before issue 10, and two more the resource refuses.
        var commands = DatabaseScript.Commands(
            ".set-or-append ServicePrincipals <| print PrincipalId = 'aadapp=x;y'\n\n"
            + ".ingest inline into table T <| 1\n\n"
            + ".alter cluster policy caching hot = 1d\n\n"
            + ".create-merge table T (A:string)\n");

        var problems = Problems(commands);

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains(".set-or-append", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_command_starts_a_block_so_no_command_hides_inside_another()
    {
        // Commands are separated by blank lines; a command line right after another command's text (no blank line)
        // would be sent as part of it.
        var commands = DatabaseScript.Commands(await DatabaseScript.AsSentAsync());

        Assert.All(commands, c =>
        {
            Assert.StartsWith(".", c.Text, StringComparison.Ordinal);
            var inner = c.Text.Split('\n').Skip(1).Where(l => l.StartsWith('.'));
            Assert.True(!inner.Any(), $"{c} has a second command without a blank line before it");
        });
    }

    [Fact]
    public async Task The_sent_script_names_the_app_identity_as_a_principal_that_sees_every_advertiser()
    {
        var script = await DatabaseScript.AsSentAsync();
        var commands = DatabaseScript.Commands(script);

        Assert.DoesNotContain("APP_PRINCIPAL_ID", script, StringComparison.Ordinal);
        var seesAll = Assert.Single(commands, c => c.Text.Contains("') SeesAllAdvertisers() {", StringComparison.Ordinal));
        Assert.Equal(".create-or-alter", seesAll.Verb);
        // current_principal() of an Entra application (a managed identity's client id): aadapp=<app id>;<tenant id>.
        Assert.Contains($"current_principal() == 'aadapp={DatabaseScript.AppClientId};{DatabaseScript.TenantId}'", seesAll.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sent_script_parses_and_binds_in_the_official_language_service()
    {
        var directory = Directory.CreateTempSubdirectory("sent-script-");
        try
        {
            var file = Path.Combine(directory.FullName, "sent.kql");
            await File.WriteAllTextAsync(file, await DatabaseScript.AsSentAsync(), TestContext.Current.CancellationToken);

            var result = await KqlChecker.CheckAsync([file], []);

            Assert.True(result.Errors.Count == 0, string.Join('\n', result.Errors));
            Assert.Contains("SeesAllAdvertisers", result.Functions);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
