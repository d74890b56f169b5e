using ClickFunctions.Aggregation;
using ClickFunctions.Embedded.Consumer;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Privacy;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Hosting;
using ClickFunctions.Hosting.Http;
using ClickFunctions.Ports;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ClickFunctions.Local;

public static class LocalHostExtensions
{
    /// <summary>The embedded shape: the shared core plus the local log, under one data directory.</summary>
    public static WebApplicationBuilder AddLocalHost(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string dataDirectory = LocalPaths.DataDirectory(builder.Configuration);
        Directory.CreateDirectory(dataDirectory);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(LocalPaths.DefaultUrl);
        }
        // Per-request framework logs at Information would cost more than the click itself.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var notes = DevKeys.Apply(builder.Configuration, dataDirectory);
        builder.Services.AddDayKeyFile(dataDirectory);
        builder.AddClickFunctionsCore();

        var services = builder.Services;
        services.AddOptions<LocalLogOptions>()
            .BindConfiguration("LocalLog")
            .Configure(o => o.Directory = string.IsNullOrEmpty(o.Directory) ? Path.Combine(dataDirectory, "log") : Path.GetFullPath(o.Directory))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(sp => new LocalClickLog(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<LocalLogOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IClickLog>(sp => sp.GetRequiredService<LocalClickLog>());
        builder.AddEmbeddedAggregation(dataDirectory);
        builder.AddEmbeddedReconciliation(dataDirectory);
        services.AddSingleton(new StartupNotes(dataDirectory, notes));
        services.AddHostedService<StartupBanner>();
        builder.AddLocalTelemetry();
        return builder;
    }

    /// <summary>The embedded read side: the DuckDB store, in-memory claims, the log consumer and the API-key query API.</summary>
    private static void AddEmbeddedAggregation(this WebApplicationBuilder builder, string dataDirectory)
    {
        var services = builder.Services;
        services.AddOptions<DedupOptions>().BindConfiguration(DedupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ClickStoreOptions>()
            .BindConfiguration(ClickStoreOptions.Section)
            .Configure(o => o.Path = string.IsNullOrEmpty(o.Path) ? Path.Combine(dataDirectory, ClickStoreOptions.FileName) : Path.GetFullPath(o.Path))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<ClickConsumerOptions>().BindConfiguration(ClickConsumerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new DuckDbClickStore(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ClickStoreOptions>>().Value));
        services.AddSingleton<IClickQueries>(sp => sp.GetRequiredService<DuckDbClickStore>());
        services.AddSingleton(sp => new EmbeddedClaimStore(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DedupOptions>>().Value.Horizon));
        services.AddSingleton<IClaimStore>(sp => sp.GetRequiredService<EmbeddedClaimStore>());
        services.AddSingleton<ClickConsumer>();
        services.AddHostedService(sp => sp.GetRequiredService<ClickConsumer>());
        builder.AddApiKeyAdvertisers();
        builder.AddQueryApi();
    }

    public static WebApplication MapLocalHost(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapClickEndpoints();
        app.MapLocalTelemetry();
        app.MapQueryEndpoints();
        app.MapGet("/healthz", (LocalClickLog log) => TypedResults.Json(
            new HealthReport("ok", [.. log.Partitions.Select(p => new PartitionHealth(p.Id, p.Committed.NextSequence))]),
            LocalJson.Default.HealthReport));
        return app;
    }

    /// <summary>The address a person on this machine can open: wildcard hosts become localhost.</summary>
    public static string BrowsableBase(IServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        string address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? LocalPaths.DefaultUrl;
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "localhost";
        }
        return uri.Uri.GetLeftPart(UriPartial.Authority);
    }
}

public sealed record StartupNotes(string DataDirectory, IReadOnlyList<string> Notes);

public sealed record PartitionHealth(int Partition, long NextSequence);

public sealed record HealthReport(string Status, IReadOnlyList<PartitionHealth> Partitions);

[System.Text.Json.Serialization.JsonSerializable(typeof(HealthReport))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class LocalJson : System.Text.Json.Serialization.JsonSerializerContext;
