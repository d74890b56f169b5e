using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Kusto;

/// <summary>The checker itself: it must report broken KQL, or a passing schema test would prove nothing.</summary>
public sealed class KqlCheckerTests : IDisposable
{
    // A small schema keeps these runs quick; one test uses the repository's schema to show the real views bind too.
    private const string SmallSchema = """
        .create-merge table Clicks (AdId:string, Clicks:long)

        .create-or-alter function AdTotal(adId:string) { Clicks | where AdId == adId | summarize Total = sum(Clicks) }
        """;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("kql-check-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task It_reports_a_query_that_reads_an_unknown_column()
    {
        var file = Write("unknown-column.kql", "ClicksPerHour\n| where NoSuchColumn > 0\n");

        var result = await KqlChecker.CheckAsync([RepositoryPaths.KustoSchema], [file]);

        Assert.Equal(1, result.ExitCode);
        var error = Assert.Single(result.Errors);
        Assert.Equal("KS142", error.Code);
        Assert.Contains("NoSuchColumn", error.Message, StringComparison.Ordinal);
        Assert.Equal((2, 9), (error.Line, error.Column));
    }

    [Fact]
    public async Task It_reports_a_query_that_reads_an_unknown_table()
    {
        var file = Write("unknown-table.kql", "ClicksPerWeek | take 1\n");

        var result = await KqlChecker.CheckAsync([Write("schema.kql", SmallSchema)], [file]);

        Assert.Contains(result.Errors, e => e.Message.Contains("ClicksPerWeek", StringComparison.Ordinal));
    }

    [Fact]
    public async Task It_reports_a_syntax_error()
    {
        var file = Write("syntax.kql", "Clicks | where\n");

        var result = await KqlChecker.CheckAsync([Write("schema.kql", SmallSchema)], [file]);

        Assert.NotEmpty(result.Errors);
    }

    [Fact]
    public async Task It_reports_a_stored_function_called_with_the_wrong_arguments()
    {
        var file = Write("call.kql", "AdTotal('ad-1', 2)\n");

        var result = await KqlChecker.CheckAsync([Write("schema.kql", SmallSchema)], [file]);

        Assert.Contains(result.Errors, e => e.Message.Contains("AdTotal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task It_binds_the_body_of_a_declared_function_and_a_view_query()
    {
        var schema = Write(
            "schema.kql",
            """
            .create-merge table T (Id:string, N:long)

            .create-or-alter function F(x:string) { T | where Missing == x }

            .create ifnotexists materialized-view V on table T { T | summarize take_any(*) by Nope }
            """);

        var result = await KqlChecker.CheckAsync([schema], []);

        Assert.Contains(result.Errors, e => e.Line == 3 && e.Message.Contains("Missing", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Line == 5 && e.Message.Contains("Nope", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Code == "SCHEMA" && e.Message.Contains("'V'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task It_reports_a_row_level_security_query_that_does_not_bind()
    {
        var schema = Write(
            "schema.kql",
            """
            .create-merge table T (Id:string, Owner:string)

            .alter table T policy row_level_security enable "T | where Ownr == current_principal()"
            """);

        var result = await KqlChecker.CheckAsync([schema], []);

        Assert.Contains(result.Errors, e => e.Message.Contains("row_level_security", StringComparison.Ordinal) && e.Message.Contains("Ownr", StringComparison.Ordinal));
    }

    [Fact]
    public async Task It_reports_an_ingestion_mapping_column_the_table_lacks()
    {
        var schema = Write(
            "schema.kql",
            """
            .create-merge table T (Id:string)

            .create-or-alter table T ingestion json mapping "TJson" '[{"column":"Idd","path":"$.id","datatype":"string"}]'
            """);

        var result = await KqlChecker.CheckAsync([schema], []);

        Assert.Contains(result.Errors, e => e.Code == "MAP001" && e.Message.Contains("Idd", StringComparison.Ordinal));
    }

    [Fact]
    public async Task It_accepts_a_query_that_binds()
    {
        var file = Write("good.kql", "declare query_parameters(adId:string);\nAdTotal(adId) | where Total > 0\n");

        var result = await KqlChecker.CheckAsync([Write("schema.kql", SmallSchema)], [file]);

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Errors);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }
}
