using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ClickFunctions.Local;

/// <summary>Titles the OpenAPI document and declares the two ways to present an API key (X-Api-Key, Bearer).</summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
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
        return Task.CompletedTask;
    }
}
