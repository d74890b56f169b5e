using ClickFunctions.Hosting.Http;

namespace ClickFunctions.Local;

/// <summary>
/// The dashboard: static pages at <c>/</c> and <c>/dashboard/{file}</c> from the build output's dashboard folder
/// (<see cref="DashboardFiles"/>). It reads only the public query API, from the browser.
/// Endpoints rather than the static-files middleware, so the click path does not look for files.
/// </summary>
public static class DashboardEndpoints
{
    public static WebApplication MapDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/", () => Serve("index.html")).ExcludeFromDescription();
        app.MapGet("/dashboard/{file}", (string file) => Serve(file)).ExcludeFromDescription();
        return app;
    }

    private static IResult Serve(string file) =>
        DashboardFiles.TryResolve(file, out string path, out string type) ? TypedResults.PhysicalFile(path, type) : TypedResults.NotFound();
}
