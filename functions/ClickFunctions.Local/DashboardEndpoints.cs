namespace ClickFunctions.Local;

/// <summary>
/// The dashboard: static pages at <c>/</c> and <c>/dashboard/{file}</c> from the build output's dashboard folder
/// (the pages and the uPlot copy the build put there). It reads only the public query API, from the browser.
/// Endpoints rather than the static-files middleware, so the click path does not look for files.
/// </summary>
public static class DashboardEndpoints
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".txt"] = "text/plain; charset=utf-8",
    };

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "dashboard");

    public static WebApplication MapDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/", () => Serve("index.html")).ExcludeFromDescription();
        app.MapGet("/dashboard/{file}", (string file) => Serve(file)).ExcludeFromDescription();
        return app;
    }

    private static IResult Serve(string file)
    {
        // Only a plain file name of the dashboard folder: no separators, no dot-segments.
        if (file != Path.GetFileName(file) || file.StartsWith('.') || !ContentTypes.TryGetValue(Path.GetExtension(file), out var type))
        {
            return TypedResults.NotFound();
        }
        string path = Path.Combine(Directory, file);
        if (!File.Exists(path))
        {
            return TypedResults.NotFound();
        }
        return TypedResults.PhysicalFile(path, type);
    }
}
