using System.Reflection;

namespace ClickFunctions.Azure.Tests.Infrastructure;

public static class TestPaths
{
    public static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is missing.");

    public static string FunctionsAppOutput => Metadata("FunctionsAppOutput");

    public static string RepoRoot => Metadata("RepoRoot");

    public static string NpmTools => Metadata("NpmToolsDirectory");

    public static string TestData(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "TestData", .. parts]);
}
