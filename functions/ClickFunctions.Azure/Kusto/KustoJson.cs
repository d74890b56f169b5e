using System.Text.Json.Serialization;

namespace ClickFunctions.Azure.Kusto;

/// <summary>The body of a v1 management or v2 query request.</summary>
public sealed record KustoRequest(
    [property: JsonPropertyName("db")] string Database,
    [property: JsonPropertyName("csl")] string Csl,
    [property: JsonPropertyName("properties")] KustoRequestProperties Properties);

public sealed record KustoRequestProperties(
    [property: JsonPropertyName("Options")] Dictionary<string, string> Options,
    [property: JsonPropertyName("Parameters")] Dictionary<string, string> Parameters);

/// <summary>
/// One minute-bucket row as the <c>ClickBucketsJson</c> mapping reads it (camelCase paths). A dimension row (decision
/// 073) has <see cref="Dimension"/>, <see cref="DimensionValue"/> and its counts in <see cref="DimensionClicks"/> /
/// <see cref="DimensionInvalidClicks"/>, with <see cref="Clicks"/> and <see cref="InvalidClicks"/> 0; a bucket row
/// leaves the four out (null in the table).
/// </summary>
public sealed record BucketRow(
    string RowId,
    string AdvertiserId,
    string CampaignId,
    string AdId,
    DateTimeOffset BucketStart,
    long Clicks,
    long InvalidClicks,
    IReadOnlyDictionary<string, long> InvalidByReason,
    string Source,
    string BatchId)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Dimension { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DimensionValue { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? DimensionClicks { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? DimensionInvalidClicks { get; init; }
}

/// <summary>One confirmed window as the <c>ReconciledWindowsJson</c> mapping reads it (decision 095).</summary>
public sealed record ReconciledWindowRow(DateTimeOffset WindowFrom, DateTimeOffset WindowTo, string Status, DateTimeOffset RecordedAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(KustoRequest))]
[JsonSerializable(typeof(BucketRow))]
[JsonSerializable(typeof(ReconciledWindowRow))]
internal sealed partial class KustoJsonContext : JsonSerializerContext;
