using ClickFunctions.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /dashboard and GET /dashboard/{file}: the local host's dashboard (decision 083), the same files from this
/// app's build output. The page and its four assets are excluded from App Service authentication so that a signed-out
/// visitor gets the page and its "Sign in with Microsoft" link; every number on it comes from the query API, which
/// stays behind Easy Auth: the page calls it with the sign-in session's cookie, as any browser call to this app.
/// </summary>
public sealed class DashboardFunction
{
    [Function("Dashboard")]
#pragma warning disable CA1822 // the worker invokes function methods on an instance
    public IActionResult Page([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "dashboard")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return MarkedPage.Value is { } page
            ? new ContentResult { Content = page.Html, ContentType = page.Type, StatusCode = StatusCodes.Status200OK }
            : new NotFoundResult();
    }

    // The same page as the local host's, marked so that it signs in with App Service authentication; read once.
    private static readonly Lazy<(string Html, string Type)?> MarkedPage = new(() =>
        DashboardFiles.TryResolve("index.html", out string path, out string type)
            ? (System.IO.File.ReadAllText(path).Replace("<meta charset=\"utf-8\">", "<meta charset=\"utf-8\">\n" + SignInMarker, StringComparison.Ordinal), type)
            : null);

    /// <summary>Tells the page (dashboard.js) to use the platform's sign-in instead of an API key.</summary>
    public const string SignInMarker = "<meta name=\"cf-sign-in\" content=\"app-service\">";

    [Function("DashboardFile")]
    public IActionResult File([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "dashboard/{file}")] HttpRequest request, string file)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Serve(file);
    }
#pragma warning restore CA1822

    private static IActionResult Serve(string file) =>
        DashboardFiles.TryResolve(file, out string path, out string type) ? new PhysicalFileResult(path, type) : new NotFoundResult();
}
