using System.Net;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace ClickFunctions.Tests.Aggregation;

/// <summary>The OpenAPI document the real local host serves, read back by Microsoft.OpenApi's reader (which validates it).</summary>
public sealed class OpenApiDocumentTests
{
    [Fact]
    public async Task The_document_is_valid_OpenAPI_3_and_lists_every_public_endpoint()
    {
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("cf-openapi-").FullName;
        try
        {
            await using var host = await LocalHostProcess.StartAsync(dir, environment: QueryApi.KeysOnly, cancellationToken: ct);
            using var client = host.CreateClient();
            using var response = await client.GetAsync("/openapi/v1.json", ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var read = await OpenApiDocument.LoadAsync(body, "json", new OpenApiReaderSettings(), ct);
            Assert.Empty(read.Diagnostic?.Errors ?? []);
            Assert.StartsWith("3.", read.Diagnostic!.SpecificationVersion switch { OpenApiSpecVersion.OpenApi3_0 => "3.0", OpenApiSpecVersion.OpenApi3_1 => "3.1", var v => v.ToString() }, StringComparison.Ordinal);
            var document = read.Document!;
            Assert.Empty(document.Validate(Microsoft.OpenApi.ValidationRuleSet.GetDefaultRuleSet()) ?? []);
            string[] expected =
            [
                "/c", "/healthz", "/metrics",
                "/api/ads/{adId}/clicks", "/api/advertisers/{advertiserId}/ads", "/api/me",
            ];
            foreach (var path in expected)
            {
                Assert.True(document.Paths.ContainsKey(path), $"{path} is not in the OpenAPI document: {string.Join(", ", document.Paths.Keys)}");
            }
            // The query operations declare the parameters their [AsParameters] types bind.
            var clicks = document.Paths["/api/ads/{adId}/clicks"].Operations![HttpMethod.Get];
            Assert.Contains(clicks.Parameters!, p => p.Name == "granularity");
            Assert.Contains("429", clicks.Responses!.Keys);
            using var reference = await client.GetAsync("/scalar/", ct);
            Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
