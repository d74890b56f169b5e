using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ClickFunctions.Hosting.Http;

/// <summary>GET/HEAD /c: the click redirect, the same handler in both hosts.</summary>
public static partial class ClickEndpoints
{
    public const string Route = "/c";

    public static IEndpointRouteBuilder MapClickEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods(Route, [HttpMethods.Get, HttpMethods.Head], HandleAsync);
        return endpoints;
    }

    /// <summary>
    /// Verifies, records and redirects. The response is 302 only after the click is durable; any failure to
    /// verify is a 4xx, any failure to record a 503, and neither carries a Location header.
    /// </summary>
    public static async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        // Method names are case-sensitive (RFC 9110 section 9.1): "get" is not GET, whatever routing matched.
        if (context.Request.Method is not ("GET" or "HEAD"))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            await WriteTextAsync(response, "Method not allowed: a click is GET or HEAD.").ConfigureAwait(false);
            return;
        }
        var capture = context.RequestServices.GetRequiredService<ClickCapture>();
        var request = context.Request;
        var headers = request.Headers;
        var clickRequest = new ClickRequest(
            request.Method,
            headers.UserAgent,
            headers.Referer,
            context.RequestServices.GetService<IClientAddress>() is { } address ? address.Resolve(context) : context.Connection.RemoteIpAddress,
            Purpose(headers),
            Header(headers, "Sec-CH-UA-Mobile"),
            Header(headers, "Sec-CH-UA-Platform"),
            Header(headers, "Sec-CH-UA"));
        CaptureResult result;
        try
        {
            result = await capture.CaptureAsync(clickRequest, ReadParameters(request.QueryString.Value), context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ClickLogUnavailableException or IOException or ObjectDisposedException or TimeoutException)
        {
            Log.RecordFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClickEndpoints)), e);
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            response.Headers.RetryAfter = "1";
            await WriteTextAsync(response, "The click could not be recorded right now; please try again.").ConfigureAwait(false);
            return;
        }
        if (result.Location is { } location)
        {
            response.StatusCode = StatusCodes.Status302Found;
            response.Headers.Location = location;
            return;
        }
        response.StatusCode = result.Status switch
        {
            VerificationStatus.Expired => StatusCodes.Status410Gone,
            VerificationStatus.BadSignature or VerificationStatus.UnknownKey => StatusCodes.Status403Forbidden,
            _ => StatusCodes.Status400BadRequest,
        };
        await WriteTextAsync(response, "Invalid click URL: " + result.Problem + ".").ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the click parameters from the raw query string (with or without its leading "?"), names compared exactly:
    /// ASP.NET Core's <see cref="IQueryCollection"/> ignores letter case, the signed format does not.
    /// </summary>
    public static ClickUrlParameters ReadParameters(string? queryString)
    {
        var values = new string?[ClickUrlParameterNames.All.Count];
        string? duplicate = null;
        string? miscased = null;
        foreach (var pair in new QueryStringEnumerable(queryString))
        {
            string name = pair.DecodeName().ToString();
            int index = IndexOf(name);
            if (index < 0)
            {
                // Other parameters are ignored, but not a click parameter in another case (an intermediary that
                // ignores case would read it as the real one).
                miscased ??= ClickUrlParameterNames.Miscased(name) is null ? null : name;
                continue;
            }
            if (values[index] is not null)
            {
                duplicate ??= name;
                continue;
            }
            values[index] = pair.DecodeValue().ToString();
        }
        string? Get(string name) => values[IndexOf(name)];
        return new ClickUrlParameters(
            Get(ClickUrlParameterNames.Ad),
            Get(ClickUrlParameterNames.Advertiser),
            Get(ClickUrlParameterNames.Url),
            Get(ClickUrlParameterNames.Campaign),
            Get(ClickUrlParameterNames.Impression),
            Get(ClickUrlParameterNames.Expires),
            Get(ClickUrlParameterNames.KeyId),
            Get(ClickUrlParameterNames.Signature),
            duplicate,
            miscased,
            Get(ClickUrlParameterNames.Publisher),
            Get(ClickUrlParameterNames.Placement),
            Get(ClickUrlParameterNames.Creative),
            Get(ClickUrlParameterNames.SubId));
    }

    private static int IndexOf(string name)
    {
        var all = ClickUrlParameterNames.All;
        for (int i = 0; i < all.Count; i++)
        {
            if (string.Equals(all[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    private static string? Header(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value) ? value.ToString() : null;

    private static string? Purpose(IHeaderDictionary headers)
    {
        // Chrome: Sec-Purpose / Purpose: prefetch; Firefox: X-Moz: prefetch; Safari and others: X-Purpose: preview.
        foreach (var name in (ReadOnlySpan<string>)["Sec-Purpose", "Purpose", "X-Moz", "X-Purpose"])
        {
            if (headers.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value))
            {
                return value.ToString();
            }
        }
        return null;
    }

    private static Task WriteTextAsync(HttpResponse response, string text)
    {
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text + "\n");
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "A click could not be made durable; answered 503 without a redirect.")]
        public static partial void RecordFailed(ILogger logger, Exception exception);
    }
}
