using System.Text.Json.Nodes;

namespace ClickFunctions.Infra.Tests.Tooling;

/// <summary>A resource declared somewhere in the compiled template, with the (nested) template that declares it.</summary>
public sealed record ArmResource(string Type, JsonObject Node, JsonObject Template)
{
    public string Name => (string?)Node["name"] ?? "";

    public JsonNode? Properties => Node["properties"];

    public bool IsExisting => Node["existing"]?.GetValue<bool>() == true;

    /// <summary>A variable of the template that declares this resource (a module's variables).</summary>
    public JsonNode? Variable(string name) => Template["variables"]?[name];

    public override string ToString() => $"{Type} {Name}";
}

/// <summary>Walks a compiled ARM template, modules (nested deployments) included.</summary>
public sealed class ArmTemplate(JsonObject root)
{
    public JsonObject Root { get; } = root;

    public string Json { get; } = root.ToJsonString();

    public IReadOnlyList<ArmResource> Resources { get; } = Collect(root).ToList();

    /// <summary>Resources this deployment creates (not `existing` references) of one type, case-insensitively.</summary>
    public IReadOnlyList<ArmResource> Created(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase) && !r.IsExisting).ToList();

    private static IEnumerable<ArmResource> Collect(JsonObject template)
    {
        // languageVersion 2.0 templates keep resources in an object keyed by symbolic name, older ones in an array.
        var resources = template["resources"] switch
        {
            JsonArray array => array.OfType<JsonObject>(),
            JsonObject byName => byName.Select(p => p.Value).OfType<JsonObject>(),
            _ => [],
        };
        foreach (var resource in resources)
        {
            var type = (string?)resource["type"] ?? "";
            yield return new ArmResource(type, resource, template);
            if (type == "Microsoft.Resources/deployments" && resource["properties"]?["template"] is JsonObject nested)
            {
                foreach (var inner in Collect(nested))
                {
                    yield return inner;
                }
            }
        }
    }
}
