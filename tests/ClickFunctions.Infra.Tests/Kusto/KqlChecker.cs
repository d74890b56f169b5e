using System.Text.Json.Nodes;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Kusto;

public sealed record KqlDiagnostic(string? File, int Line, int Column, string Severity, string Code, string Message)
{
    public override string ToString() => $"{File}({Line},{Column}): {Severity} {Code}: {Message}";
}

public sealed record KqlCheckResult(int ExitCode, JsonObject Report, IReadOnlyList<KqlDiagnostic> Diagnostics)
{
    public IReadOnlyList<KqlDiagnostic> Errors => Diagnostics.Where(d => d.Severity == "Error").ToList();

    public IReadOnlyList<string> CheckedFiles => Report["checked"]!.AsArray().Select(c => (string)c!["file"]!).ToList();

    public IReadOnlyList<string> Columns(string table) =>
        (Report["tables"]?[table] ?? Report["materializedViews"]?[table])?.AsArray().Select(c => (string)c!).ToList() ?? [];

    public IReadOnlyList<string> Functions => Report["functions"]!.AsArray().Select(f => (string)f!).ToList();
}

/// <summary>Runs tests/tools/kql-check.mjs (the official Kusto language service in node).</summary>
public static class KqlChecker
{
    // Generous: a loaded CI machine runs several of these at once.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    public static async Task<KqlCheckResult> CheckAsync(IEnumerable<string> schema, IEnumerable<string> texts, IEnumerable<string>? scripts = null)
    {
        var arguments = new List<string> { RepositoryPaths.KqlChecker, "--schema" };
        arguments.AddRange(schema);
        arguments.Add("--text");
        arguments.AddRange(texts);
        if (scripts is not null)
        {
            arguments.Add("--script");
            arguments.AddRange(scripts);
        }

        var result = await ProcessRunner.RunAsync("node", arguments, RepositoryPaths.Root, Timeout);
        if (result.ExitCode is not (0 or 1))
        {
            throw new InvalidOperationException($"kql-check could not run: {result}");
        }

        var report = JsonNode.Parse(result.StandardOutput)!.AsObject();
        var diagnostics = report["diagnostics"]!.AsArray()
            .Select(d => new KqlDiagnostic(
                (string?)d!["file"], (int)d["line"]!, (int)d["column"]!, (string)d["severity"]!, (string)d["code"]!, (string)d["message"]!))
            .ToList();
        return new KqlCheckResult(result.ExitCode, report, diagnostics);
    }
}
