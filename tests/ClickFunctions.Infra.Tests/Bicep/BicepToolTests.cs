using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Bicep;

public sealed class BicepToolTests
{
    [Fact]
    public async Task Main_bicep_builds_with_no_errors_and_no_warnings()
    {
        var result = await BicepCli.BuildMainAsync();

        AssertClean(result);
        Assert.StartsWith("{", result.StandardOutput.TrimStart(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Main_bicep_passes_the_linter_with_no_errors_and_no_warnings()
    {
        var result = await BicepCli.LintMainAsync();

        AssertClean(result);
    }

    [Fact]
    public async Task The_linter_output_that_the_clean_check_rejects_includes_warnings()
    {
        // Proves AssertClean would catch a regression: an unused parameter is a linter warning.
        var directory = Directory.CreateTempSubdirectory("infra-tests-");
        try
        {
            var file = Path.Combine(directory.FullName, "unused.bicep");
            await File.WriteAllTextAsync(file, "param unused string\n", TestContext.Current.CancellationToken);

            var result = await BicepCli.RunAsync("lint", file);

            Assert.Contains("Warning no-unused-params", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertClean(result));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Azd_parameters_file_names_only_parameters_main_bicep_declares()
    {
        var template = await BicepCli.MainTemplateAsync();
        var declared = template.Root["parameters"]!.AsObject().Select(p => p.Key).ToHashSet();
        var parameters = System.Text.Json.Nodes.JsonNode.Parse(
            await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Infra, "main.parameters.json"), TestContext.Current.CancellationToken))!;

        var supplied = parameters["parameters"]!.AsObject().Select(p => p.Key).ToList();

        Assert.NotEmpty(supplied);
        Assert.All(supplied, name => Assert.Contains(name, declared));
    }

    private static void AssertClean(ProcessResult result)
    {
        var output = result.StandardOutput + result.StandardError;
        if (result.ExitCode != 0
            || output.Contains(": Warning ", StringComparison.Ordinal)
            || output.Contains(": Error ", StringComparison.Ordinal))
        {
            Assert.Fail($"bicep reported problems: {result}");
        }
    }
}
