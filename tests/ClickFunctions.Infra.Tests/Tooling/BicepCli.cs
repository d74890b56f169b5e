using System.Text.Json.Nodes;

namespace ClickFunctions.Infra.Tests.Tooling;

/// <summary>The Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package; main.bicep is built and linted once per run.</summary>
public static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private static readonly Lazy<Task<ProcessResult>> BuildResult = new(() => RunAsync("build", RepositoryPaths.MainBicep, "--stdout"));
    private static readonly Lazy<Task<ProcessResult>> LintResult = new(() => RunAsync("lint", RepositoryPaths.MainBicep));
    private static readonly Lazy<Task<ArmTemplate>> Compiled = new(CompileAsync);

    /// <summary>Values for the parameters of infra/main.bicep that have no default, as Bicep literals.</summary>
    public static IReadOnlyDictionary<string, string> RequiredMainParameters { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["environmentName"] = "'clicks-test'",
        ["location"] = "'westeurope'",
        ["clickSigningKey"] = "'k-0123456789abcdef0123456789abcdef'",
        ["fingerprintSecret"] = "'f-0123456789abcdef0123456789abcdef'",
    };

    public static Task<ProcessResult> BuildMainAsync() => BuildResult.Value;

    public static Task<ProcessResult> LintMainAsync() => LintResult.Value;

    /// <summary>The ARM JSON that `bicep build` makes of infra/main.bicep.</summary>
    public static Task<ArmTemplate> MainTemplateAsync() => Compiled.Value;

    public static Task<ProcessResult> RunAsync(params string[] arguments)
    {
        var bicep = RepositoryPaths.Bicep;
        if (!File.Exists(bicep))
        {
            throw new FileNotFoundException("The Bicep CLI is missing; `dotnet restore` fetches it.", bicep);
        }

        if (!OperatingSystem.IsWindows())
        {
            // NuGet does not keep the executable bit of package files.
            File.SetUnixFileMode(bicep, File.GetUnixFileMode(bicep) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute);
        }

        return ProcessRunner.RunAsync(bicep, arguments, RepositoryPaths.Infra, Timeout);
    }

    /// <summary>
    /// Writes a .bicepparam file for <paramref name="bicepFile"/> with the given parameter values (Bicep literals) in a
    /// temporary folder and runs `bicep build-params` (compiler checks of the values, such as @minValue) or
    /// `bicep snapshot` (the deployment engine's evaluation of every resource); returns the result and, for a
    /// snapshot, its JSON.
    /// </summary>
    public static async Task<(ProcessResult Result, JsonObject? Snapshot)> WithParametersAsync(string command, string bicepFile, IReadOnlyDictionary<string, string> values)
    {
        var directory = Directory.CreateTempSubdirectory("bicepparam-");
        try
        {
            var file = Path.Combine(directory.FullName, "test.bicepparam");
            var relative = Path.GetRelativePath(directory.FullName, bicepFile).Replace('\\', '/');
            var text = $"using '{relative}'\n" + string.Concat(values.Select(v => $"param {v.Key} = {v.Value}\n"));
            await File.WriteAllTextAsync(file, text);
            string[] arguments = command == "snapshot"
                ? ["snapshot", file, "--mode", "overwrite", "--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47",
                   "--subscription-id", "0b1f6471-1bf0-4dda-aec3-cb9272f09590", "--location", "westeurope",
                   "--deployment-name", "infra-tests", .. (bicepFile == RepositoryPaths.MainBicep ? Array.Empty<string>() : ["--resource-group", "rg-test"])]
                : ["build-params", file, "--stdout"];
            var result = await RunAsync(arguments);
            var snapshotFile = Path.Combine(directory.FullName, "test.snapshot.json");
            var snapshot = File.Exists(snapshotFile) ? JsonNode.Parse(await File.ReadAllTextAsync(snapshotFile))!.AsObject() : null;
            return (result, snapshot);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<ArmTemplate> CompileAsync()
    {
        var result = await BuildMainAsync();
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build failed: {result}");
        }

        return new ArmTemplate(JsonNode.Parse(result.StandardOutput)!.AsObject());
    }
}
