using ClickFunctions.Infra.Tests.Kusto;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Bicep;

public sealed class MonitoringTests
{
    // The custom metrics the app emits (meter "ClickFunctions"), as Application Insights customMetrics names.
    public static TheoryData<string> Metrics =>
    [
        "clicks.recorded", "clicks.rejected", "clicks.invalid", "clicks.publish.latency", "clicks.publish.failures",
        "clicks.publish.batch_size", "aggregate.batch_size", "aggregate.duplicates", "aggregate.ingestion.failures",
        "aggregate.lag", "reconcile.drift", "reconcile.gaps", "clicks.publish.retries", "aggregate.failures",
        "aggregate.dead_letters", "aggregate.backlog", "aggregate.ingestion.reported_failures",
    ];

    [Theory]
    [MemberData(nameof(Metrics))]
    public async Task The_workbook_charts_the_metric(string metric)
    {
        var template = await BicepCli.MainTemplateAsync();

        var workbook = Assert.Single(template.Created("Microsoft.Insights/workbooks"));
        var panels = (string?)workbook.Variable("queries")?.ToJsonString() ?? "";

        Assert.Contains($"\\u0022{metric}\\u0022", panels, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Metrics))]
    public void The_app_creates_the_metric(string metric)
    {
        // Instruments are created in the app's source as Meter.CreateCounter<long>("name", ...) and the like.
        var sources = Directory.GetFiles(RepositoryPaths.Functions, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText);

        Assert.Contains(sources, text => text.Contains($"(\"{metric}\"", StringComparison.Ordinal) && text.Contains("Meter", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("clicks.publish.failures")]
    [InlineData("aggregate.ingestion.failures")]
    [InlineData("aggregate.lag")]
    [InlineData("aggregate.dead_letters")]
    [InlineData("reconcile.drift")]
    [InlineData("resultCode) >= 500")]
    public async Task An_alert_watches(string signal)
    {
        var template = await BicepCli.MainTemplateAsync();

        var rules = Assert.Single(template.Created("Microsoft.Insights/scheduledQueryRules"));
        var alerts = rules.Variable("alerts")!.AsArray();

        Assert.Contains(alerts, a => ((string?)a!["query"])!.Contains(signal, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_workbook_and_alert_query_binds_against_the_application_insights_schema()
    {
        var template = await BicepCli.MainTemplateAsync();
        var workbook = Assert.Single(template.Created("Microsoft.Insights/workbooks"));
        var rules = Assert.Single(template.Created("Microsoft.Insights/scheduledQueryRules"));
        var queries = workbook.Variable("queries")!.AsObject().Select(q => (Name: $"workbook-{q.Key}", Text: (string)q.Value!))
            .Concat(rules.Variable("alerts")!.AsArray().Select(a => (Name: $"alert-{(string)a!["name"]!}", Text: (string)a["query"]!)))
            .ToList();
        var directory = Directory.CreateTempSubdirectory("dashboard-kql-");
        try
        {
            foreach (var (name, text) in queries)
            {
                await File.WriteAllTextAsync(Path.Combine(directory.FullName, $"{name}.kql"), text, TestContext.Current.CancellationToken);
            }

            var schema = Path.Combine(AppContext.BaseDirectory, "Kusto", "application-insights.kql");
            var result = await KqlChecker.CheckAsync([schema], [directory.FullName]);

            Assert.Equal(queries.Count, result.CheckedFiles.Count - 1);
            Assert.True(result.Errors.Count == 0, string.Join('\n', result.Errors));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
