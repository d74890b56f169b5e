using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace ClickFunctions.Hosting.Http;

/// <summary>
/// Titles the OpenAPI document, declares the two ways to present an API key (X-Api-Key, Bearer), and lists the routes
/// the generator cannot describe (those mapped with a plain RequestDelegate: the click redirect, /metrics), so that
/// the document names every public endpoint of the host. Both hosts use it; the Functions app names its own sign-in.
/// </summary>
public sealed class ApiDocumentTransformer(string? description = null) : IOpenApiDocumentTransformer
{
    public const string LocalDescription = "Signed click redirects and the advertiser query API (docs/query-api.md). Query endpoints take an API key as X-Api-Key or Authorization: Bearer.";

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
            Description = description ?? LocalDescription,
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-Api-Key" };
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer" };

        document.Paths ??= [];
        // Query parameters as the API documents and binds them (case-insensitively): camelCase, like the JSON.
        foreach (var (path, operation) in document.Paths.SelectMany(p => ((IEnumerable<OpenApiOperation>?)p.Value.Operations?.Values ?? []).Select(o => (p.Key, o))))
        {
            foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => p.In == ParameterLocation.Query && p.Name is { Length: > 0 }))
            {
                parameter.Name = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!);
            }
            // A 429 says when to come back (RFC 9110 §10.2.3; the gate always sets it).
            if (operation.Responses?.TryGetValue("429", out var tooMany) == true && tooMany is OpenApiResponse response)
            {
                response.Description = "Too many requests: the key's rate limit, or too many failed authentications from this address.";
                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                response.Headers["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before retrying.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } };
            }
            // Every /api/ operation authenticates the caller (the query and admin gates answer 401 otherwise).
            if (path.StartsWith("/api/", StringComparison.Ordinal))
            {
                operation.Security = [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] },
                ];
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
