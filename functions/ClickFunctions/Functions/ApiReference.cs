using System.IO.Compression;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /scalar and GET /scalar/scalar.js: a browsable reference of <c>/openapi/v1.json</c>, as the local host serves at
/// <c>/scalar/</c> (decision 079). The worker has no endpoint routing for <c>MapScalarApiReference</c>, so the page is
/// written here and the script is Scalar.AspNetCore's own bundled copy (an embedded, gzip-compressed resource of that
/// package): no CDN. Both paths are excluded from App Service authentication, like the document itself.
/// </summary>
public sealed class ApiReferenceFunction
{
    public const string ScriptResource = "ScalarStaticAssets.scalar.js";

    // The page: the script, then Scalar's standalone entry point pointed at this app's document (system fonts: its
    // default fonts come from Scalar's CDN).
    internal const string Page = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>ClickFunctions API reference</title></head>
        <body>
        <div id="app"></div>
        <script src="/scalar/scalar.js"></script>
        <script>Scalar.createApiReference('#app', { url: '/openapi/v1.json', withDefaultFonts: false });</script>
        </body>
        </html>
        """;

    private static readonly Lazy<byte[]> Compressed = new(() =>
    {
        using var stream = typeof(Scalar.AspNetCore.ScalarOptions).Assembly.GetManifestResourceStream(ScriptResource)
            ?? throw new InvalidOperationException($"Scalar.AspNetCore no longer embeds {ScriptResource}; update ApiReferenceFunction.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    private static readonly Lazy<byte[]> Inflated = new(() =>
    {
        using var plain = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(Compressed.Value), CompressionMode.Decompress))
        {
            gzip.CopyTo(plain);
        }
        return plain.ToArray();
    });

    [Function("ApiReference")]
#pragma warning disable CA1822 // the worker invokes function methods on an instance
    public IActionResult Reference([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "scalar")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ContentResult { Content = Page, ContentType = "text/html; charset=utf-8", StatusCode = StatusCodes.Status200OK };
    }

    [Function("ApiReferenceScript")]
    public IActionResult Script([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "scalar/scalar.js")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.HttpContext.Response.Headers.CacheControl = "public, max-age=86400";
        // Sent as stored when the client takes gzip (every browser does); decompressed otherwise.
        if (request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            request.HttpContext.Response.Headers.ContentEncoding = "gzip";
            request.HttpContext.Response.Headers.Vary = "Accept-Encoding";
            return new FileContentResult(Compressed.Value, "text/javascript; charset=utf-8");
        }
        return new FileContentResult(Inflated.Value, "text/javascript; charset=utf-8");
    }
#pragma warning restore CA1822
}
