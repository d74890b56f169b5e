using System.Text.Json;

namespace ClickFunctions.Azure.Kusto;

/// <summary>
/// Reads ADX responses. v2: a JSON array of frames (DataSetHeader, DataTable per table with its TableKind, and
/// DataSetCompletion); a query can fail after the 200 status line was sent, so errors arrive as
/// <c>OneApiErrors</c> in a row or in the completion frame with <c>HasErrors</c>. Any such error is an exception:
/// a partial result is never returned as if complete.
/// </summary>
public static class KustoFrames
{
    public static KustoTable ParsePrimaryResult(JsonElement root, string? clientRequestId = null)
    {
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new KustoException("A v2 response is a JSON array of frames.");
        }
        KustoTable? primary = null;
        bool completed = false;
        foreach (var frame in root.EnumerateArray())
        {
            string? type = frame.TryGetProperty("FrameType", out var t) ? t.GetString() : null;
            switch (type)
            {
                case "DataSetHeader":
                    if (frame.TryGetProperty("IsProgressive", out var progressive) && progressive.ValueKind == JsonValueKind.True)
                    {
                        throw new KustoException("Progressive v2 responses are not requested and not supported.");
                    }
                    break;
                case "DataTable":
                    if (frame.TryGetProperty("TableKind", out var kind) && kind.GetString() == "PrimaryResult")
                    {
                        var table = ReadTable(frame, clientRequestId);
                        primary ??= table;
                    }
                    break;
                case "DataSetCompletion":
                    completed = true;
                    if (frame.TryGetProperty("HasErrors", out var hasErrors) && hasErrors.ValueKind == JsonValueKind.True)
                    {
                        throw ErrorFrom(frame, clientRequestId, "ADX reported errors in the query completion.");
                    }
                    if (frame.TryGetProperty("Cancelled", out var cancelled) && cancelled.ValueKind == JsonValueKind.True)
                    {
                        throw new KustoException("ADX cancelled the query.", null, "Cancelled", clientRequestId);
                    }
                    break;
                default:
                    break;
            }
        }
        if (!completed)
        {
            throw new KustoException("The v2 response ended without a DataSetCompletion frame (truncated).", null, null, clientRequestId);
        }
        return primary ?? throw new KustoException("The v2 response has no PrimaryResult table.", null, null, clientRequestId);
    }

    /// <summary>v1 (management) responses: <c>{"Tables":[{"TableName","Columns":[{"ColumnName","ColumnType"|"DataType"}],"Rows":[...]}]}</c>.</summary>
    public static KustoTable ParseV1FirstTable(JsonElement root, string? clientRequestId = null)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Tables", out var tables) || tables.GetArrayLength() == 0)
        {
            throw new KustoException("A v1 response has a non-empty Tables array.", null, null, clientRequestId);
        }
        return ReadTable(tables[0], clientRequestId);
    }

    private static KustoTable ReadTable(JsonElement table, string? clientRequestId)
    {
        string name = table.TryGetProperty("TableName", out var n) ? n.GetString() ?? "" : "";
        var columns = new List<KustoColumn>();
        foreach (var column in table.GetProperty("Columns").EnumerateArray())
        {
            string type = column.TryGetProperty("ColumnType", out var ct) ? ct.GetString() ?? ""
                : column.TryGetProperty("DataType", out var dt) ? dt.GetString() ?? "" : "";
            columns.Add(new KustoColumn(column.GetProperty("ColumnName").GetString() ?? "", type));
        }
        var rows = new List<JsonElement[]>();
        foreach (var row in table.GetProperty("Rows").EnumerateArray())
        {
            if (row.ValueKind == JsonValueKind.Object)
            {
                // An error row: the query failed part-way through producing this table.
                throw ErrorFrom(row, clientRequestId, "ADX reported an error inside the result table.");
            }
            var values = new JsonElement[columns.Count];
            int i = 0;
            foreach (var value in row.EnumerateArray())
            {
                if (i >= values.Length)
                {
                    throw new KustoException($"A row of table '{name}' has more values than its {columns.Count} columns.");
                }
                values[i++] = value.Clone();
            }
            if (i != values.Length)
            {
                throw new KustoException($"A row of table '{name}' has {i} values for {columns.Count} columns.");
            }
            rows.Add(values);
        }
        return new KustoTable(name, columns, rows);
    }

    private static KustoException ErrorFrom(JsonElement holder, string? clientRequestId, string fallback)
    {
        if (holder.TryGetProperty("OneApiErrors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0
            && errors[0].TryGetProperty("error", out var error))
        {
            string? code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
            string? message = error.TryGetProperty("@message", out var m) ? m.GetString()
                : error.TryGetProperty("message", out var m2) ? m2.GetString() : null;
            return new KustoException($"{fallback} {code}: {message}", null, code, clientRequestId);
        }
        return new KustoException(fallback, null, null, clientRequestId);
    }
}
