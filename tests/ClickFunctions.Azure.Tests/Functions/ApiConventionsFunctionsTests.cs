using System.Text;
using ClickFunctions.Azure.Identity;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Azure.Tests.Kusto;
using ClickFunctions.Functions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace ClickFunctions.Azure.Tests.Functions;

/// <summary>
/// The Functions app follows the local host's API conventions: an OpenAPI 3 document at /openapi/v1.json (read back
/// and validated by Microsoft.OpenApi's reader and its default rule set) naming every HTTP function, 429 with
/// Retry-After under a burst on one principal, and unknown query parameters a 400 naming them.
/// </summary>
public sealed class ApiConventionsFunctionsTests : IAsyncLifetime
{
    private const string Principal = "11111111-1111-1111-1111-111111111111";
    private LoopbackKusto _adx = null!;
    private IHost _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _adx = await LoopbackKusto.StartAsync();
        _host = FunctionsAppHost.Build(_adx);
    }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncDisposable)_host).DisposeAsync();
        await _adx.DisposeAsync();
    }

    [Fact]
    public async Task The_API_reference_is_a_page_over_the_document_with_Scalars_own_script_gzip_or_plain()
    {
        var function = new ApiReferenceFunction();
        var page = Assert.IsType<ContentResult>(function.Reference(new DefaultHttpContext().Request));
        Assert.Equal(200, page.StatusCode);
        Assert.StartsWith("text/html", page.ContentType, StringComparison.Ordinal);
        // The page loads the served script (no CDN) and points Scalar at the served document.
        Assert.Contains("<script src=\"/scalar/scalar.js\"></script>", page.Content, StringComparison.Ordinal);
        Assert.Contains("url: '/openapi/v1.json'", page.Content, StringComparison.Ordinal);
        Assert.Contains(ApiDocument.ServedRoutes(), r => r.Path == "/scalar/scalar.js");
        Assert.Contains(ApiDocument.ServedRoutes(), r => r.Path == "/openapi/v1.json");

        var gzipped = new DefaultHttpContext();
        gzipped.Request.Headers.AcceptEncoding = "gzip, deflate, br";
        var compressed = Assert.IsType<FileContentResult>(function.Script(gzipped.Request));
        Assert.Equal("gzip", gzipped.Response.Headers.ContentEncoding.ToString());
        var plain = Assert.IsType<FileContentResult>(function.Script(new DefaultHttpContext().Request));
        Assert.StartsWith("text/javascript", plain.ContentType, StringComparison.Ordinal);
        using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(compressed.FileContents), System.IO.Compression.CompressionMode.Decompress))
        using (var inflated = new MemoryStream())
        {
            await gzip.CopyToAsync(inflated, Ct);
            Assert.Equal(plain.FileContents, inflated.ToArray());
        }
        // The standalone entry point the page calls is in the script the package bundles.
        Assert.Contains("createApiReference", Encoding.UTF8.GetString(plain.FileContents), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_OpenAPI_document_is_valid_OpenAPI_3_and_names_every_HTTP_function()
    {
        var context = new DefaultHttpContext { RequestServices = _host.Services };
        var result = await new OpenApiDocumentFunction().RunAsync(context.Request);
        var content = Assert.IsType<ContentResult>(result);
        Assert.Equal(200, content.StatusCode);
        Assert.StartsWith("application/json", content.ContentType, StringComparison.Ordinal);

        using var body = new MemoryStream(Encoding.UTF8.GetBytes(content.Content!));
        var read = await OpenApiDocument.LoadAsync(body, "json", new OpenApiReaderSettings(), Ct);
        Assert.Empty(read.Diagnostic?.Errors ?? []);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, read.Diagnostic!.SpecificationVersion);
        var document = read.Document!;
        Assert.Empty(document.Validate(ValidationRuleSet.GetDefaultRuleSet()) ?? []);

        // Every served route but the pages for people: the document, its browsable reference and the dashboard.
        var served = ApiDocument.ServedRoutes().Where(r => r.Path is not ("/openapi/v1.json" or "/scalar" or "/scalar/scalar.js" or "/dashboard" or "/dashboard/{file}")).ToList();
        Assert.Contains(served, r => r.Path == "/api/admin/advertisers/{advertiserId}/principals");
        foreach (var (path, methods) in served)
        {
            Assert.True(document.Paths.TryGetValue(path, out var item), $"{path} is not in the document: {string.Join(", ", document.Paths.Keys)}");
            foreach (var method in methods)
            {
                Assert.True(item!.Operations!.ContainsKey(new HttpMethod(method)), $"{method} {path} is not in the document");
            }
        }
        // Nothing the app does not serve (the document is cut to the HTTP functions).
        Assert.All(document.Paths.Keys, p => Assert.Contains(served, r => r.Path == p));

        var clicks = document.Paths["/api/ads/{adId}/clicks"].Operations![HttpMethod.Get];
        Assert.Contains(clicks.Parameters!, p => p.Name == "granularity");
        Assert.Contains(clicks.Parameters!, p => p.Name == "tz");
        Assert.Contains("400", clicks.Responses!.Keys);
        Assert.True(clicks.Responses!["429"].Headers!.ContainsKey("Retry-After"));
        Assert.NotEmpty(clicks.Security!);
        Assert.Contains("bearer", document.Components!.SecuritySchemes!.Keys);
    }

    private async Task<(int Status, string Body, IHeaderDictionary Headers)> GetClicks(string query)
    {
        var context = new DefaultHttpContext { RequestServices = _host.Services };
        context.Request.Method = "GET";
        context.Request.Path = "/api/ads/ad-1/clicks";
        context.Request.QueryString = new QueryString(query);
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        context.Request.Headers[AdvertiserPrincipals.PrincipalIdHeader] = Principal;
        var body = new MemoryStream();
        context.Response.Body = body;
        await ActivatorUtilities.CreateInstance<GetAdClicks>(_host.Services).RunAsync(context.Request, "ad-1");
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()), context.Response.Headers);
    }

    [Fact]
    public async Task An_unknown_query_parameter_is_a_400_naming_it()
    {
        var (status, body, _) = await GetClicks("?from=2026-11-29T10:00:00Z&to=2026-11-29T11:00:00Z&granularity=hour&limt=3");
        Assert.Equal(400, status);
        Assert.Contains("limt", body, StringComparison.Ordinal);
        Assert.Empty(_adx.Requests);
    }

    [Fact]
    public async Task A_burst_of_500_on_one_principal_gets_429s_with_Retry_After()
    {
        // A misaligned range is answered 400 by the handler without asking ADX, so the burst measures the gate alone.
        int tooMany = 0;
        for (int i = 0; i < 500; i++)
        {
            var (status, _, headers) = await GetClicks("?from=2026-11-29T10:00:30Z&to=2026-11-29T11:00:00Z&granularity=minute");
            if (status == 429)
            {
                tooMany++;
                Assert.True(int.TryParse(headers.RetryAfter.ToString(), out int seconds) && seconds >= 1, $"Retry-After '{headers.RetryAfter}'");
            }
            else
            {
                Assert.Equal(400, status);
            }
        }
        // The default bucket is 100 with 20/s refill: most of a fast burst of 500 is refused.
        Assert.InRange(tooMany, 300, 400);
    }
}
