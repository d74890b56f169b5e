using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ClickFunctions.Local;

/// <summary>
/// Titles the OpenAPI document, declares the two ways to present an API key (X-Api-Key, Bearer), and lists the routes
/// the generator cannot describe (those mapped with a plain RequestDelegate: the click redirect, /metrics), so that
/// the document names every public endpoint of the host.
/// </summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    /// <summary>The document and its reference describe the API; they are not part of it.</summary>
    private static readonly string[] OwnRoutes = ["/openapi/", "/scalar"];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(context);
        document.Info = new OpenApiInfo
        {
            Title = "ClickFunctions",
            Version = "v1",
            Description = "Signed click redirects and the advertiser query API (docs/query-api.md). Query endpoints take an API key as X-Api-Key or Authorization: Bearer.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-Api-Key" };
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer" };

        document.Paths ??= [];
        // Query parameters as the API documents and binds them (case-insensitively): camelCase, like the JSON.
        foreach (var operation in document.Paths.Values.SelectMany(p => (IEnumerable<OpenApiOperation>?)p.Operations?.Values ?? []))
        {
            foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => p.In == ParameterLocation.Query && p.Name is { Length: > 0 }))
            {
                parameter.Name = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!);
            }
        }
        foreach (var endpoint in PublicRoutes(context.ApplicationServices))
        {
            if (!document.Paths.TryGetValue(endpoint.Path, out var item))
            {
                item = new OpenApiPathItem();
                document.Paths[endpoint.Path] = item;
            }
            var operations = ((OpenApiPathItem)item).Operations ??= [];
            foreach (var method in endpoint.Methods)
            {
                var httpMethod = new HttpMethod(method);
                if (!operations.ContainsKey(httpMethod))
                {
                    operations[httpMethod] = new OpenApiOperation
                    {
                        Summary = endpoint.Summary,
                        Responses = new OpenApiResponses { ["default"] = new OpenApiResponse { Description = "See docs/ for this endpoint." } },
                    };
                }
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>Every routed endpoint of the host (path and methods), the document's own routes aside.</summary>
    public static IEnumerable<(string Path, IReadOnlyList<string> Methods, string? Summary)> PublicRoutes(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        foreach (var endpoint in services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            string path = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            if (OwnRoutes.Any(r => path.StartsWith(r, StringComparison.Ordinal)))
            {
                continue;
            }
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get];
            yield return (path, [.. methods], endpoint.DisplayName);
        }
    }
}
