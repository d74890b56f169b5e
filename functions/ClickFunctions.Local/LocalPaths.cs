using ClickFunctions.Embedded;

namespace ClickFunctions.Local;

/// <summary>The local host's address and the configuration its CLI commands read; the data paths are <see cref="EmbeddedPaths"/>.</summary>
public static class LocalPaths
{
    public const string DefaultUrl = "http://localhost:7071";

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
            // A source, not an indexer write: a write lands in the providers, and a later source (a host builder adds some) rebuilds them without it.
            configuration.AddInMemoryCollection([new(EmbeddedPaths.DataDirectoryKey, dataDirectory)]);
        }
        return configuration;
    }

    /// <summary>
    /// The embedded wiring for a CLI command, built but not started: none of the host's background services (consumer,
    /// periodic reconciler, operations socket) run, and only what the command resolves is created.
    /// </summary>
    public static IHost BuildEmbeddedServices(string? dataDirectory)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Configuration = CliConfiguration(dataDirectory) });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.AddEmbeddedAdapters();
        return builder.Build();
    }
}
