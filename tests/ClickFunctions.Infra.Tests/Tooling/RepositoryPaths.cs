using System.Reflection;

namespace ClickFunctions.Infra.Tests.Tooling;

/// <summary>Where the repository, the Bicep CLI and the node tools are, as the build recorded them.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = Metadata("RepositoryRoot");

    public static string Infra { get; } = Path.Combine(Root, "infra");

    public static string MainBicep { get; } = Path.Combine(Infra, "main.bicep");

    public static string KustoSchema { get; } = Path.Combine(Infra, "kusto");

    public static string Functions { get; } = Path.Combine(Root, "functions");

    public static string LocalSettingsSample { get; } = Path.Combine(Root, "local.settings.sample.json");

    public static string NpmTools { get; } = Metadata("NpmToolsDirectory");

    public static string KqlChecker { get; } = Path.Combine(NpmTools, "kql-check.mjs");

    public static string Bicep { get; } = Metadata("BicepPath");

    /// <summary>The Functions app's build output (functions.metadata), built before this project.</summary>
    public static string FunctionsAppOutput { get; } = Metadata("FunctionsAppOutput");

    private static string Metadata(string key) =>
        typeof(RepositoryPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The build did not record {key}; see ClickFunctions.Infra.Tests.csproj.");
}
