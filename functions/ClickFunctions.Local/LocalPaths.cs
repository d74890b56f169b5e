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

    /// <summary>
    /// The configuration the CLI commands read, as the host does: appsettings.json in the working directory, then
    /// environment variables, with <c>--data-dir</c> on top when given.
    /// </summary>
    public static ConfigurationManager CliConfiguration(string? dataDirectory)
    {
        var configuration = new ConfigurationManager();
        configuration.AddJsonFile(Path.GetFullPath("appsettings.json"), optional: true);
        configuration.AddEnvironmentVariables();
        if (dataDirectory is not null)
        {
            configuration[DataDirectoryKey] = dataDirectory;
        }
        return configuration;
    }
}
