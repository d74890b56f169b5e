using System.Text.Json.Nodes;

namespace ClickFunctions.Infra.Tests.Tooling;

/// <summary>One management command of a database script, with the line (1-based) it starts on.</summary>
public sealed record KustoCommand(string Text, int Line)
{
    /// <summary>The command's first word, for example <c>.create-or-alter</c>.</summary>
    public string Verb => Text.Split((char[])[' ', '\t', '\n'], 2)[0];

    /// <summary>The word after the verb, for example <c>table</c> or <c>cluster</c>.</summary>
    public string Target => Text.Split((char[])[' ', '\t', '\n'], 3, StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) ?? "";

    public override string ToString() => $"line {Line}: {(Text.Length > 120 ? Text[..120] + "..." : Text)}";
}

/// <summary>
/// The script the kusto module hands to its Microsoft.Kusto/clusters/databases/scripts resource: the module's
/// scriptContent value in the template `bicep build` compiles from infra/main.bicep, evaluated with the app
/// identity's client id and tenant id it receives at deployment.
/// </summary>
public static class DatabaseScript
{
    public const string AppClientId = "3f1b9c62-7d4e-4a8b-9c2d-5e6f7a8b9c0d";
    public const string TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    private static readonly Lazy<Task<string>> Sent = new(SentAsync);

    public static Task<string> AsSentAsync() => Sent.Value;

    /// <summary>
    /// Splits a script into commands the way Kusto tools and the database script resource read it: commands are
    /// separated by blank lines; lines that start with // are comments. A block that holds only comments is no command.
    /// </summary>
    public static IReadOnlyList<KustoCommand> Commands(string script)
    {
        var commands = new List<KustoCommand>();
        var lines = script.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var block = new List<string>();
        int start = 0;
        for (int i = 0; i <= lines.Length; i++)
        {
            string? line = i < lines.Length ? lines[i] : null;
            if (line is null || line.Trim().Length == 0)
            {
                if (block.Count > 0)
                {
                    commands.Add(new KustoCommand(string.Join('\n', block).Trim(), start));
                    block.Clear();
                }
                continue;
            }
            if (line.TrimStart().StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }
            if (block.Count == 0)
            {
                start = i + 1;
            }
            block.Add(line);
        }
        return commands;
    }

    private static async Task<string> SentAsync()
    {
        var main = await BicepCli.MainTemplateAsync();
        // The kusto module: the nested deployment whose template declares the schema script.
        var kusto = main.Resources
            .Where(r => r.Type == "Microsoft.Resources/deployments")
            .Select(r => r.Node["properties"]!["template"]!.AsObject())
            .Single(t => t["variables"]?["schemaScript"] is not null);
        var schemaModule = new ArmTemplate(kusto).Resources
            .Single(r => r.Type == "Microsoft.Resources/deployments"
                && new ArmTemplate(r.Node["properties"]!["template"]!.AsObject()).Created("Microsoft.Kusto/clusters/databases/scripts").Count == 1);

        // What the script resource receives is the schema module's scriptContent parameter, verbatim.
        var script = Assert.Single(new ArmTemplate(schemaModule.Node["properties"]!["template"]!.AsObject()).Created("Microsoft.Kusto/clusters/databases/scripts"));
        Assert.Equal("[parameters('scriptContent')]", (string?)script.Properties!["scriptContent"]);

        var parameters = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["appClientId"] = AppClientId,
            ["tenantId"] = TenantId,
        };
        var value = new ArmExpression(kusto, parameters).Evaluate(schemaModule.Node["properties"]!["parameters"]!["scriptContent"]!["value"]);
        return Assert.IsType<string>(value);
    }
}
