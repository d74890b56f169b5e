using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using Microsoft.Extensions.Configuration;

namespace ClickFunctions.Embedded;

/// <summary>
/// Where the embedded shape keeps its data, defined once for the host and every CLI command: one data directory
/// (<c>--data-dir</c>, default <c>.data</c> under the working directory) holding the log (<c>log/</c>, or
/// <c>LocalLog:Directory</c>), the store (<c>clicks.duckdb</c>, or <c>ClickStore:Path</c>) and the reconcile reports
/// (<c>reconcile/</c>). Relative paths are taken from the working directory.
/// </summary>
public sealed record EmbeddedPaths(string DataDirectory, string LogDirectory, string StorePath, string ReportDirectory)
{
    /// <summary>Command-line <c>--data-dir</c> (configuration key <c>data-dir</c>).</summary>
    public const string DataDirectoryKey = "data-dir";

    public const string DefaultDataDirectory = ".data";

    public const string LogDirectoryKey = "LocalLog:Directory";

    public const string LogDirectoryName = "log";

    public static EmbeddedPaths From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string dataDirectory = Path.GetFullPath(configuration[DataDirectoryKey] is { Length: > 0 } dir ? dir : DefaultDataDirectory);
        return new EmbeddedPaths(
            dataDirectory,
            configuration[LogDirectoryKey] is { Length: > 0 } log ? Path.GetFullPath(log) : Path.Combine(dataDirectory, LogDirectoryName),
            configuration[$"{ClickStoreOptions.Section}:{nameof(ClickStoreOptions.Path)}"] is { Length: > 0 } store ? Path.GetFullPath(store) : Path.Combine(dataDirectory, ClickStoreOptions.FileName),
            Path.Combine(dataDirectory, ReconcileReports.DirectoryName));
    }
}
