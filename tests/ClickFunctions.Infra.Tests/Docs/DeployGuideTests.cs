using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ClickFunctions.Infra.Tests.Kusto;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Docs;

/// <summary>docs/deploy.md walked through as an operator would: every command in it is valid as written.</summary>
public sealed partial class DeployGuideTests
{
    private static readonly Lazy<string> Guide = new(() => File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "deploy.md")));

    public static IReadOnlyList<(string Language, string Code)> Blocks(string markdown) =>
        Fence().Matches(markdown).Select(m => (m.Groups["lang"].Value, m.Groups["code"].Value)).ToList();

    private static IReadOnlyList<string> Bash => Blocks(Guide.Value).Where(b => b.Language is "bash" or "sh").Select(b => b.Code).ToList();

    /// <summary>A block's commands with continuation lines joined and comments removed.</summary>
    private static IReadOnlyList<string> CommandLines(string code) =>
        Comment().Replace(code.Replace("\\\n", " ", StringComparison.Ordinal), "")
            .Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

    [Fact]
    public async Task Every_kusto_block_parses_and_binds_against_the_schema_the_deployment_creates()
    {
        var kusto = Blocks(Guide.Value).Where(b => b.Language == "kusto").ToList();
        Assert.True(kusto.Count >= 3, "the guide's KQL commands");
        var directory = Directory.CreateTempSubdirectory("deploy-md-kql-");
        try
        {
            var files = new List<string>();
            foreach (var (block, i) in kusto.Select((b, i) => (b, i)))
            {
                var file = Path.Combine(directory.FullName, $"block-{i}.kql");
                await File.WriteAllTextAsync(file, block.Code, TestContext.Current.CancellationToken);
                files.Add(file);
            }

            var result = await KqlChecker.CheckAsync([RepositoryPaths.KustoSchema], [], files);

            Assert.True(result.Errors.Count == 0, string.Join('\n', result.Errors));
            Assert.All(files, f => Assert.Contains(result.CheckedFiles, c => c.EndsWith(Path.GetFileName(f), StringComparison.Ordinal)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Every_shell_block_is_valid_bash_with_no_placeholder_the_shell_would_read_as_a_redirection()
    {
        Assert.True(Bash.Count >= 5);
        foreach (var code in Bash)
        {
            var file = Path.GetTempFileName();
            try
            {
                await File.WriteAllTextAsync(file, code, TestContext.Current.CancellationToken);
                var result = await ProcessRunner.RunAsync("bash", ["-n", file], RepositoryPaths.Root, TimeSpan.FromSeconds(30));
                Assert.True(result.ExitCode == 0, $"{result}\n{code}");
            }
            finally
            {
                File.Delete(file);
            }
            // <client id> in a command is a redirection to bash; the guide uses variables instead.
            Assert.All(CommandLines(code), line => Assert.DoesNotMatch("[<>]", line));
        }
    }

    [Fact]
    public void Every_shell_block_defines_the_variables_it_uses_so_it_runs_on_its_own()
    {
        foreach (var code in Bash)
        {
            var defined = Assignment().Matches(code).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
            foreach (Match use in Variable().Matches(Comment().Replace(code, "")))
            {
                Assert.True(defined.Contains(use.Groups["name"].Value), $"${use.Groups["name"].Value} is used but not set in:\n{code}");
            }
        }
    }

    [Fact]
    public async Task The_azd_environment_values_are_the_ones_the_azd_parameter_file_reads()
    {
        var parameters = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Infra, "main.parameters.json"), TestContext.Current.CancellationToken);
        var read = AzdVariable().Matches(parameters).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

        var set = Bash.SelectMany(CommandLines).Select(l => AzdEnvSet().Match(l)).Where(m => m.Success).Select(m => m.Groups["name"].Value).ToList();

        Assert.Contains("CLICK_SIGNING_KEY", set);
        Assert.All(set, name => Assert.Contains(name, read));
        // Every value a required parameter reads without a default (${NAME}, not ${NAME=}) is set by the guide,
        // except AZURE_ENV_NAME, which `azd env new` sets.
        var required = AzdVariable().Matches(parameters).Where(m => !m.Value.Contains('=', StringComparison.Ordinal)).Select(m => m.Groups["name"].Value);
        Assert.All(required.Where(n => n != "AZURE_ENV_NAME"), name => Assert.Contains(name, set));
    }

    [Fact]
    public async Task The_azure_cli_deployment_passes_only_parameters_main_bicep_declares_and_every_required_one()
    {
        var template = await BicepCli.MainTemplateAsync();
        var declared = template.Root["parameters"]!.AsObject();
        var command = Assert.Single(Bash.SelectMany(CommandLines), l => l.StartsWith("az deployment sub create", StringComparison.Ordinal));

        var passed = ParameterAssignment().Matches(command[command.IndexOf("--parameters", StringComparison.Ordinal)..]).Select(m => m.Groups["name"].Value).ToList();

        Assert.All(passed, name => Assert.True(declared.ContainsKey(name), $"--parameters {name}= is not a parameter of main.bicep"));
        var required = declared.Where(p => p.Value!["defaultValue"] is null).Select(p => p.Key);
        Assert.All(required, name => Assert.Contains(name, passed));
    }

    [Fact]
    public void Every_project_the_guide_builds_or_runs_exists()
    {
        var projects = Bash.SelectMany(CommandLines)
            .SelectMany(l => ProjectPath().Matches(l).Select(m => m.Groups["path"].Value))
            .ToList();

        Assert.Contains("functions/ClickFunctions", projects);
        Assert.All(projects, p => Assert.True(Directory.Exists(Path.Combine(RepositoryPaths.Root, p)), $"{p} does not exist"));
    }

    [Fact]
    public async Task The_load_generator_command_uses_only_options_the_load_generator_has()
    {
        var program = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Functions, "ClickFunctions.LoadGen", "Program.cs"), TestContext.Current.CancellationToken);
        var options = DeclaredOption().Matches(program).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var command = Assert.Single(Bash.SelectMany(CommandLines), l => l.Contains("--project functions/ClickFunctions.LoadGen", StringComparison.Ordinal));

        var used = UsedOption().Matches(command[(command.IndexOf(" -- ", StringComparison.Ordinal) + 4)..]).Select(m => m.Value).ToList();

        Assert.Contains("--advertiser-prefix", used);
        Assert.All(used, option => Assert.Contains(option, options));
    }

    [Fact]
    public async Task The_secret_the_guide_reads_is_one_the_key_vault_holds()
    {
        var template = await BicepCli.MainTemplateAsync();
        var secrets = template.Created("Microsoft.KeyVault/vaults/secrets").Select(s => s.Name).ToList();
        var read = Bash.SelectMany(CommandLines).Where(l => l.Contains("az keyvault secret show", StringComparison.Ordinal))
            .Select(l => SecretName().Match(l).Groups["name"].Value).ToList();

        Assert.NotEmpty(read);
        Assert.All(read, name => Assert.Contains(secrets, s => s.Contains($"'{name}'", StringComparison.Ordinal) || s.EndsWith($"/{name}", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_guide_ends_with_what_cannot_be_verified_without_a_subscription()
    {
        var sections = Heading().Matches(Guide.Value).ToList();

        var last = sections[^1];
        Assert.Equal("What cannot be verified without a subscription", last.Groups["title"].Value.Trim());
        var bullets = Guide.Value[last.Index..].Split('\n').Count(l => l.StartsWith("- ", StringComparison.Ordinal));
        Assert.True(bullets >= 4, $"{bullets} items");
    }

    [GeneratedRegex(@"^```(?<lang>[a-z]*)\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();

    [GeneratedRegex(@"(^|\s)#[^\n]*")]
    private static partial Regex Comment();

    [GeneratedRegex(@"(^|[\s(])(?<name>[A-Za-z_][A-Za-z0-9_]*)=", RegexOptions.Multiline)]
    private static partial Regex Assignment();

    [GeneratedRegex(@"\$\{?(?<name>[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();

    [GeneratedRegex(@"\$\{(?<name>[A-Z_][A-Z0-9_]*)=?[^}]*\}")]
    private static partial Regex AzdVariable();

    [GeneratedRegex(@"^azd env set (?<name>[A-Z_][A-Z0-9_]*) ")]
    private static partial Regex AzdEnvSet();

    [GeneratedRegex(@"(?<=\s)(?<name>[A-Za-z][A-Za-z0-9]*)=")]
    private static partial Regex ParameterAssignment();

    [GeneratedRegex(@"dotnet (?:publish|build|run)\b[^|;&]*?(?:--project )?(?<path>functions/[A-Za-z.]+)")]
    private static partial Regex ProjectPath();

    [GeneratedRegex(@"new Option<[^>]+>\(""(?<name>--[a-z-]+)""")]
    private static partial Regex DeclaredOption();

    [GeneratedRegex(@"(?<=\s|^)--[a-z][a-z-]*")]
    private static partial Regex UsedOption();

    [GeneratedRegex(@"--name (?<name>[a-z0-9-]+)")]
    private static partial Regex SecretName();

    [GeneratedRegex(@"^## (?<title>.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
