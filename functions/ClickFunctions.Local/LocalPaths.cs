namespace ClickFunctions.Local;

public static class LocalPaths
{
    /// <summary>Command-line <c>--data-dir</c> (configuration key <c>data-dir</c>); default <c>.data</c> under the working directory.</summary>
    public const string DataDirectoryKey = "data-dir";

    public const string DefaultDataDirectory = ".data";

    public const string DefaultUrl = "http://localhost:7071";

    public static string DataDirectory(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string configured = configuration[DataDirectoryKey] is { Length: > 0 } dir ? dir : DefaultDataDirectory;
        return Path.GetFullPath(configured);
    }
}
