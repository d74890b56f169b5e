using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
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
        var capture = context.RequestServices.GetRequiredService<ClickCapture>();
        var request = context.Request;
        var headers = request.Headers;
        var clickRequest = new ClickRequest(
            request.Method,
            headers.UserAgent,
            headers.Referer,
            context.RequestServices.GetService<IClientAddress>() is { } address ? address.Resolve(context) : context.Connection.RemoteIpAddress,
            Purpose(headers));
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        CaptureResult result;
        try
        {
            result = await capture.CaptureAsync(clickRequest, ReadParameters(request.Query), context.RequestAborted).ConfigureAwait(false);
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

    public static ClickUrlParameters ReadParameters(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        string? duplicate = null;
        string? Get(string name)
        {
            if (!query.TryGetValue(name, out StringValues values) || values.Count == 0)
            {
                return null;
            }
            if (values.Count > 1)
            {
                duplicate ??= name;
            }
            return values[0];
        }
        var parameters = new ClickUrlParameters(
            Get(ClickUrlParameterNames.Ad),
            Get(ClickUrlParameterNames.Advertiser),
            Get(ClickUrlParameterNames.Url),
            Get(ClickUrlParameterNames.Campaign),
            Get(ClickUrlParameterNames.Impression),
            Get(ClickUrlParameterNames.Expires),
            Get(ClickUrlParameterNames.KeyId),
            Get(ClickUrlParameterNames.Signature));
        return duplicate is null ? parameters : parameters with { DuplicateName = duplicate };
    }

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
