using System.Globalization;
using System.Text.RegularExpressions;
using ClickFunctions.Azure.Tests.Infrastructure;

namespace ClickFunctions.Azure.Tests.Rehearsal;

/// <summary>
/// Issue 11, finding 2: the throughput units docs/deploy.md says the design load needs and provisions are what
/// infra/main.bicep provisions, and the rehearsal compares its figure with that same Bicep default.
/// </summary>
public sealed partial class CapacityDocsTests
{
    private static string Read(params string[] path) => File.ReadAllText(Path.Combine([TestPaths.RepoRoot, .. path]));

    private static int BicepDefault(string bicep, string parameter)
    {
        var match = Regex.Match(bicep, $@"param {Regex.Escape(parameter)} int = (\d+)", RegexOptions.None, TimeSpan.FromSeconds(1));
        Assert.True(match.Success, $"infra/main.bicep has no integer default for {parameter}");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Deploy_docs_claim_the_throughput_units_the_Bicep_provisions_and_every_rehearsal_figure_fits_them()
    {
        string bicep = Read("infra", "main.bicep");
        string deploy = Read("docs", "deploy.md");
        int capacity = BicepDefault(bicep, "eventHubsCapacity");
        int ceiling = BicepDefault(bicep, "eventHubsMaximumThroughputUnits");

        Assert.Contains($"`eventHubsCapacity={capacity}`", deploy, StringComparison.Ordinal);
        Assert.Contains($"{capacity} provisioned + auto-inflate {ceiling}", deploy, StringComparison.Ordinal);
        var figures = RehearsalLine().Matches(deploy);
        Assert.NotEmpty(figures);
        Assert.All(figures, m => Assert.InRange(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), 1, capacity));

        // The rehearsal script's bound is that same Bicep default, read from the file, not a number of its own.
        string script = Read("tests", "load", "azure-rehearsal.sh");
        Assert.Contains("param eventHubsCapacity int", script, StringComparison.Ordinal);
        Assert.Contains("v[\"throughput_units\"] > tu", script, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^table_requests_per_click=\S+ partition_events_per_s_max=\S+ partition_mb_per_s_max=\S+ throughput_units=(\d+) ", RegexOptions.Multiline)]
    private static partial Regex RehearsalLine();
}
