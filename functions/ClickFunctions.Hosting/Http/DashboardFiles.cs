namespace ClickFunctions.Hosting.Http;

/// <summary>
/// The dashboard's files as both hosts serve them (decision 083): plain file names of the build output's
/// <c>dashboard</c> folder (the pages and the uPlot copy the build put there), with their content types. Nothing
/// else: no separators, no dot-segments, no hidden files, no other extensions.
/// </summary>
public static class DashboardFiles
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".txt"] = "text/plain; charset=utf-8",
    };

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "dashboard");

    /// <summary>The files the dashboard's page loads besides itself, for hosts that must list its paths (Easy Auth's exclusions).</summary>
    public static IReadOnlyList<string> PageAssets { get; } = ["dashboard.js", "dashboard.css", "uPlot.iife.min.js", "uPlot.min.css"];

    /// <summary>The path and content type of a dashboard file, or false when the name is not one the dashboard serves.</summary>
    public static bool TryResolve(string file, out string path, out string contentType)
    {
        path = "";
        contentType = "";
        if (string.IsNullOrEmpty(file) || file != Path.GetFileName(file) || file.StartsWith('.') || !ContentTypes.TryGetValue(Path.GetExtension(file), out var type))
        {
            return false;
        }
        string candidate = Path.Combine(Directory, file);
        if (!File.Exists(candidate))
        {
            return false;
        }
        (path, contentType) = (candidate, type);
        return true;
    }
}
