using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Bicep;

/// <summary>
/// Microsoft Learn, "Configure an App Service app" (https://learn.microsoft.com/azure/app-service/configure-common),
/// Configure app settings: "App setting names can contain only letters, numbers (0-9), periods (.), and
/// underscores (_)." Checked for every setting name the deployment sets, the local sample lists and the docs tell
/// an operator to set.
/// </summary>
public sealed partial class AppSettingNameTests
{
    public static bool IsValidName(string name) => ValidName().IsMatch(name);

    [Fact]
    public async Task Every_app_setting_the_bicep_sets_has_a_name_app_service_accepts()
    {
        var settings = await SecurityPostureTests.AppSettingsAsync();

        Assert.NotEmpty(settings);
        Assert.All(settings.Keys, name => Assert.True(IsValidName(name), $"app setting {name}"));
    }

    [Fact]
    public async Task Every_setting_of_the_local_sample_has_a_name_app_service_accepts()
    {
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryPaths.LocalSettingsSample, TestContext.Current.CancellationToken))!;
        var names = sample["Values"]!.AsObject().Select(p => p.Key).ToList();

        Assert.Contains(names, n => n.StartsWith("Advertisers__", StringComparison.Ordinal));
        Assert.All(names, name => Assert.True(IsValidName(name), $"local.settings.sample.json: {name}"));
    }

    [Theory]
    [InlineData("docs/deploy.md")]
    [InlineData("docs/azure.md")]
    public async Task Every_app_setting_name_in_the_docs_is_one_app_service_accepts(string doc)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, doc), TestContext.Current.CancellationToken);

        var names = SettingNames(text);

        Assert.Contains(names, n => n.StartsWith("Advertisers__", StringComparison.Ordinal));
        Assert.All(names, name => Assert.True(IsValidName(name), $"{doc}: {name}"));
    }

    [Theory]
    [InlineData("Advertisers__adv-1__PrincipalId", false)]
    [InlineData("Advertisers__lg-adv-0__PrincipalId", false)]
    [InlineData("Advertisers:adv1:PrincipalId", false)]
    [InlineData("Advertisers__adv1__PrincipalId", true)]
    [InlineData("APPLICATIONINSIGHTS_CONNECTION_STRING", true)]
    [InlineData("Kusto__ClusterUri", true)]
    public void The_rule_accepts_letters_digits_periods_and_underscores_only(string name, bool valid)
    {
        Assert.Equal(valid, IsValidName(name));
        if (name.Contains("__", StringComparison.Ordinal))
        {
            // The doc scan finds the whole name, hyphens included.
            Assert.Equal([name], SettingNames($"set `{name}=1` now"));
        }
    }

    /// <summary>
    /// Setting names as a doc writes them: words joined by the double underscore that stands for a configuration
    /// section separator, or written as NAME=value in an app settings command. A placeholder such as
    /// &lt;advertiserId&gt; stands for a value whose characters the doc constrains, so it counts as letters.
    /// </summary>
    public static IReadOnlyList<string> SettingNames(string text) =>
        SettingName().Matches(text).Select(m => Placeholder().Replace(m.Value, "x")).Distinct(StringComparer.Ordinal).ToList();

    [GeneratedRegex(@"^[A-Za-z0-9._]+$")]
    private static partial Regex ValidName();

    [GeneratedRegex(@"(?<![\w.<>:-])[\w.<>:-]*__[\w.<>:-]+")]
    private static partial Regex SettingName();

    [GeneratedRegex(@"<[A-Za-z ]+>")]
    private static partial Regex Placeholder();
}
