using System.Text.Json.Nodes;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>
/// v2 responses for our own queries, made from a recorded real response (its header, properties, completion
/// information and completion frames) with only the PrimaryResult table's columns and rows replaced.
/// </summary>
public static class V2Responses
{
    public static string WithPrimaryResult((string Name, string Type)[] columns, params object?[][] rows)
    {
        var frames = JsonNode.Parse(KustoClientConformanceTests.Recorded("python-zero_results.json"))!.AsArray();
        var primary = frames.Single(f => (string?)f!["TableKind"] == "PrimaryResult")!;
        primary["Columns"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject { ["ColumnName"] = c.Name, ["ColumnType"] = c.Type }).ToArray());
        primary["Rows"] = new JsonArray(rows.Select(r => (JsonNode)new JsonArray(r.Select(v => v switch { null => null, JsonNode node => node.DeepClone(), _ => (JsonNode?)JsonValue.Create(v) }).ToArray())).ToArray());
        return frames.ToJsonString();
    }

    /// <summary>As <see cref="WithPrimaryResult"/>, with the rows given as their JSON array text (for answers of hundreds of thousands of rows).</summary>
    public static string WithPrimaryResultRows((string Name, string Type)[] columns, string rowsJsonArray)
    {
        const string Placeholder = "__rows_placeholder__";
        var frames = JsonNode.Parse(KustoClientConformanceTests.Recorded("python-zero_results.json"))!.AsArray();
        var primary = frames.Single(f => (string?)f!["TableKind"] == "PrimaryResult")!;
        primary["Columns"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject { ["ColumnName"] = c.Name, ["ColumnType"] = c.Type }).ToArray());
        primary["Rows"] = Placeholder;
        return frames.ToJsonString().Replace("\"" + Placeholder + "\"", rowsJsonArray, StringComparison.Ordinal);
    }
}
