using System.Text.Json.Nodes;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Functions;

/// <summary>
/// The Event Hubs extension the real Functions project selects, evaluated by the .NET SDK as each command line
/// evaluates it. Rules: the .NET SDK sets the global property _IsPublishing=true for `dotnet publish` (.NET 8 and
/// later) and for its implicit restore; azd deploys a .NET service with `dotnet restore`, `dotnet build -c Release`
/// and `dotnet publish &lt;project&gt; -c Release --output &lt;dir&gt;` (Azure/azure-dev,
/// cli/azd/pkg/project/framework_service_dotnet.go and cli/azd/pkg/tools/dotnet/dotnet.go). A deployable package
/// needs the real Microsoft.Azure.Functions.Worker.Extensions.EventHubs, whose build adds the host extension
/// Microsoft.Azure.WebJobs.Extensions.EventHubs to .azurefunctions (docs/decisions/040).
/// </summary>
public sealed class PublishTests
{
    private const string Extension = "Microsoft.Azure.Functions.Worker.Extensions.EventHubs";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(6);

    private const string Project = "functions/ClickFunctions/ClickFunctions.csproj";
    private static readonly string[] Queries = ["-getProperty:UseEventHubsExtension", "-getProperty:_IsPublishing", "-getItem:PackageReference", "-getItem:Compile"];

    /// <summary>`dotnet msbuild -getProperty` without a target: evaluation only, with no global property added.</summary>
    private static async Task<JsonObject> EvaluateAsync(params string[] properties)
    {
        var result = await Dotnet(["msbuild", Project, .. properties, .. Queries]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonNode.Parse(result.StandardOutput)!.AsObject();
    }

    // No MSBuild node outlives a test.
    private static Task<ProcessResult> Dotnet(string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", arguments[0] == "nuget" ? arguments : [.. arguments, "-nodeReuse:false"], FunctionsSourceCopy.Root, Timeout);

    private static IEnumerable<string> Items(JsonObject evaluation, string type) =>
        evaluation["Items"]![type]!.AsArray().Select(i => (string)i!["Identity"]!);

    [Fact]
    public async Task Dotnet_publish_selects_the_real_extension_with_no_extra_flag()
    {
        // `dotnet publish` with -getProperty runs its restore and Publish target and then prints what they saw.
        // Here the restore fails because the real extension is in no package source; that failure is the point.
        var cache = await GlobalPackagesFolderAsync();
        var result = await Dotnet(["publish", "functions/ClickFunctions", "-c", "Release", "--source", cache, .. Queries]);
        var json = result.StandardOutput[result.StandardOutput.IndexOf('{', StringComparison.Ordinal)..(result.StandardOutput.LastIndexOf('}') + 1)];
        var evaluation = JsonNode.Parse(json)!.AsObject();

        Assert.Equal("true", (string?)evaluation["Properties"]!["_IsPublishing"]);
        Assert.Equal("true", (string?)evaluation["Properties"]!["UseEventHubsExtension"]);
        Assert.Contains(Extension, Items(evaluation, "PackageReference"));
        Assert.DoesNotContain(Items(evaluation, "Compile"), f => f.Contains("OfflineBuild", StringComparison.Ordinal));
        Assert.True(result.ExitCode == 0 || (result.StandardOutput + result.StandardError).Contains($"NU1101: Unable to find package {Extension}", StringComparison.Ordinal), result.ToString());
    }

    [Theory]
    [InlineData]
    [InlineData("-p:Configuration=Release")]
    public async Task Dotnet_build_and_the_test_build_keep_the_offline_stand_in(params string[] properties)
    {
        // `dotnet build` and `dotnet test` add no global property that selects the extension: what they build is
        // what evaluation without _IsPublishing gives. The whole suite building the app here proves they work offline.
        var evaluation = await EvaluateAsync(properties);

        Assert.Equal("", (string?)evaluation["Properties"]!["_IsPublishing"]);
        Assert.Equal("false", (string?)evaluation["Properties"]!["UseEventHubsExtension"]);
        Assert.DoesNotContain(Extension, Items(evaluation, "PackageReference"));
        Assert.Contains(Items(evaluation, "Compile"), f => f.Contains("OfflineBuild", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dotnet_publish_without_the_extension_in_any_package_source_fails_in_restore_naming_it()
    {
        // The only package source is the local NuGet cache, offered as a folder feed: every package the build here
        // uses is in it, the real extension is not (this machine's mirror does not serve it). No network is used.
        var cache = await GlobalPackagesFolderAsync();
        Assert.SkipWhen(
            Directory.Exists(Path.Combine(cache, Extension.ToLowerInvariant())),
            "the real extension is in the local NuGet cache here, so a publish would not fail in restore");
        var output = Directory.CreateTempSubdirectory("publish-out-");
        try
        {
            var result = await Dotnet(["publish", "functions/ClickFunctions", "-c", "Release", "-o", output.FullName, "--source", cache]);
            var text = result.StandardOutput + result.StandardError;

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains($"error NU1101: Unable to find package {Extension}", text, StringComparison.Ordinal);
            Assert.DoesNotContain("offline stand-in", text, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(output.FullName, "ClickFunctions.dll")), "the publish produced a package");
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_publish_forced_onto_the_stand_in_stops_at_the_guard()
    {
        var result = await Dotnet(["msbuild", Project, "-t:RefuseOfflinePublish", "-p:UseEventHubsExtension=false"]);
        var guard = await Dotnet(["msbuild", Project, "-t:RefuseOfflinePublish", "-p:UseEventHubsExtension=true"]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("offline stand-in", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, guard.ExitCode);
    }

    private static async Task<string> GlobalPackagesFolderAsync()
    {
        var result = await Dotnet(["nuget", "locals", "global-packages", "--list"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var line = result.StandardOutput.Split('\n').Single(l => l.StartsWith("global-packages:", StringComparison.Ordinal));
        return line["global-packages:".Length..].Trim();
    }
}
