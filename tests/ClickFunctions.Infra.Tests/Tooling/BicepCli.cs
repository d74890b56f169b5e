using System.Text.Json.Nodes;

namespace ClickFunctions.Infra.Tests.Tooling;

/// <summary>The Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package; main.bicep is built and linted once per run.</summary>
public static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private static readonly Lazy<Task<ProcessResult>> BuildResult = new(() => RunAsync("build", RepositoryPaths.MainBicep, "--stdout"));
    private static readonly Lazy<Task<ProcessResult>> LintResult = new(() => RunAsync("lint", RepositoryPaths.MainBicep));
    private static readonly Lazy<Task<ArmTemplate>> Compiled = new(CompileAsync);

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
