using System.Text.RegularExpressions;
using ClickFunctions.Azure.Tests.Infrastructure;

namespace ClickFunctions.Azure.Tests.Tables;

/// <summary>
/// Azure Table design guide, "Design for querying": "Using an 'or' to specify a filter based on RowKey values results
/// in a partition scan and isn't treated as a range query. Therefore, avoid queries that use filters such as:
/// $filter=PartitionKey eq 'Sales' and (RowKey eq '121' or RowKey eq '322')".
/// https://learn.microsoft.com/azure/storage/tables/table-storage-design-for-query
/// No statement of the shipped code may build such a filter.
/// </summary>
public sealed partial class TableQuerySourceTests
{
    [Fact]
    public void No_table_query_in_the_code_filters_row_keys_with_or()
    {
        var offenders = new List<string>();
        var files = Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, "functions"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            string code = Comments().Replace(File.ReadAllText(file), " ");
            foreach (string statement in code.Split(';'))
            {
                if (statement.Contains("RowKey", StringComparison.Ordinal) && OrOperator().IsMatch(statement))
                {
                    offenders.Add($"{Path.GetRelativePath(TestPaths.RepoRoot, file)}: {statement.Trim()[..Math.Min(160, statement.Trim().Length)]}");
                }
            }
        }
        Assert.Empty(offenders);
    }

    [Fact]
    public void The_scan_recognises_the_filter_the_design_guide_warns_about()
    {
        // What TableClaimStore built before it used point reads: the scan above must catch it.
        const string old = """
            string filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}") + " and (" +
                string.Join(" or ", chunk.Select(k => TableClient.CreateQueryFilter($"RowKey eq {k}"))) + ")";
            """;
        Assert.Contains(old.Split(';'), s => s.Contains("RowKey", StringComparison.Ordinal) && OrOperator().IsMatch(s));
    }

    /// <summary>The OData <c>or</c> operator as it appears in a filter string, or an <c>||</c> in a LINQ filter.</summary>
    [GeneratedRegex(@"(\bor\b|\|\|)", RegexOptions.IgnoreCase)]
    private static partial Regex OrOperator();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();
}
