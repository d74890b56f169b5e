using System.Text.RegularExpressions;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Repository;

/// <summary>
/// docs/architecture.md is the design the code cites: every invariant a comment or document cites is defined there,
/// nothing cites a design document outside the repository, and every test it names as checking an invariant exists.
/// </summary>
public sealed partial class ArchitectureDocTests
{
    private static readonly string Doc = Path.Combine(RepositoryPaths.Root, "docs", "architecture.md");

    [GeneratedRegex(@"^(\d+)\. \*\*", RegexOptions.Multiline)]
    private static partial Regex InvariantDefinition();

    [GeneratedRegex(@"docs/architecture\.md, invariants? (\d+)")]
    private static partial Regex Citation();

    [GeneratedRegex(@"`([A-Z][A-Za-z]+Tests)\.([A-Za-z0-9_]+)`")]
    private static partial Regex NamedTest();

    private static string InvariantsSection()
    {
        string text = File.ReadAllText(Doc);
        int start = text.IndexOf("\n## Invariants", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/architecture.md has no Invariants section");
        int end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? text[start..] : text[start..end];
    }

    private static IEnumerable<string> RepositoryFiles(string folder, string pattern) =>
        Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, folder), pattern, SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules"));

    private static IEnumerable<string> SourcesAndDocs() =>
        RepositoryFiles("functions", "*.cs").Concat(RepositoryFiles("tests", "*.cs")).Concat(RepositoryFiles("docs", "*.md"))
            .Append(Path.Combine(RepositoryPaths.Root, "README.md"));

    [Fact]
    public void Every_cited_invariant_is_defined_in_docs_architecture_md()
    {
        var defined = InvariantDefinition().Matches(InvariantsSection()).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Equal(Enumerable.Range(1, defined.Count), defined.Order());
        var citations = SourcesAndDocs()
            .SelectMany(f => Citation().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetRelativePath(RepositoryPaths.Root, f), Number: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))))
            .ToList();
        Assert.NotEmpty(citations);
        var undefined = citations.Where(c => !defined.Contains(c.Number)).ToList();
        Assert.True(undefined.Count == 0, "cited but not defined: " + string.Join(", ", undefined));
    }

    [Fact]
    public void Nothing_cites_a_design_document_outside_the_repository()
    {
        var outside = SourcesAndDocs()
            .Where(f => File.ReadAllText(f).Contains("ARCHITECTURE invariant", StringComparison.Ordinal) || File.ReadAllText(f).Contains("ARCHITECTURE.md", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(RepositoryPaths.Root, f))
            .Where(f => f != Path.Combine("tests", "ClickFunctions.Infra.Tests", "Repository", "ArchitectureDocTests.cs"));
        Assert.Empty(outside);
    }

    [Fact]
    public void Every_invariant_names_tests_and_every_named_test_exists()
    {
        var section = InvariantsSection();
        var invariants = InvariantDefinition().Split(section).Skip(1).Where((_, i) => i % 2 == 1).ToList();
        Assert.NotEmpty(invariants);
        Assert.All(invariants, text => Assert.Matches(NamedTest(), text));
        var testSources = RepositoryFiles("tests", "*Tests.cs").Select(File.ReadAllText).ToList();
        var missing = NamedTest().Matches(section)
            .Select(m => (Class: m.Groups[1].Value, Method: m.Groups[2].Value))
            .Where(t => !testSources.Any(s => s.Contains($"class {t.Class}", StringComparison.Ordinal) && s.Contains($" {t.Method}(", StringComparison.Ordinal)))
            .ToList();
        Assert.Empty(missing);
    }
}
