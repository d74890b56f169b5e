using System.Text.Json.Serialization;
using ClickFunctions.Queries;

namespace ClickFunctions.Hosting.Http;

/// <summary>Source-generated JSON for the query API (camelCase, the contract in docs/query-api.md).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(AdClicks))]
[JsonSerializable(typeof(AdvertiserAds))]
[JsonSerializable(typeof(Breakdown))]
[JsonSerializable(typeof(AdvertiserProfile))]
public sealed partial class QueryJson : JsonSerializerContext;
