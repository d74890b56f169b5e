using System.Globalization;
using System.Text.Json;

namespace ClickFunctions.Azure.Kusto;

public sealed record KustoColumn(string Name, string Type);

/// <summary>One result table (the v2 PrimaryResult, or a v1 management result). Rows keep their JSON values.</summary>
public sealed class KustoTable(string name, IReadOnlyList<KustoColumn> columns, IReadOnlyList<JsonElement[]> rows)
{
    public string Name { get; } = name;

    public IReadOnlyList<KustoColumn> Columns { get; } = columns;

    public IReadOnlyList<JsonElement[]> Rows { get; } = rows;

    public int Ordinal(string column)
    {
        for (int i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i].Name, column, StringComparison.Ordinal))
            {
                return i;
            }
        }
        throw new KustoException($"The result has no column '{column}'.");
    }

    public static string? GetString(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => value.GetString(),
        _ => value.GetRawText(),
    };

    public static long? GetInt64(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.Number => value.GetInt64(),
        JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) => parsed,
        _ => throw new KustoException($"Expected a long, got {value.ValueKind}."),
    };

    public static DateTimeOffset? GetDateTime(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String when value.GetString() is { Length: > 0 } text =>
            DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        JsonValueKind.String => null,
        _ => throw new KustoException($"Expected a datetime, got {value.ValueKind}."),
    };
}
