using ClickFunctions.Aggregation;
using ClickFunctions.Embedded.Consumer;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Privacy;
using ClickFunctions.Embedded.Reconciliation;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Hosting;
using ClickFunctions.Hosting.Http;
using ClickFunctions.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Embedded;

/// <summary>
/// The embedded shape's wiring, beside its adapters: the shared core plus the local log, the DuckDB store, in-memory
/// claims, the log consumer, the periodic reconciler and the API-key query API, under one data directory
/// (<see cref="EmbeddedPaths"/>). The local host and the CLI commands (reconcile) all start here; a command that only
/// builds the container, without starting it, runs none of the background services.
/// </summary>
public static class EmbeddedAdaptersExtensions
{
    public static IHostApplicationBuilder AddEmbeddedAdapters(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var paths = EmbeddedPaths.From(builder.Configuration);
        // Before the core: with random, destroyed day keys registered it asks for no fingerprint master secret.
        builder.Services.AddDayKeyFile(paths.DataDirectory);
        builder.AddClickFunctionsCore();

        var services = builder.Services;
        services.AddSingleton(paths);
        services.AddSingleton<DiskUsage>();
        services.AddSingleton<Operations.MaintenanceLock>();
        services.AddOptions<LocalLogOptions>()
            .BindConfiguration("LocalLog")
            .Configure(o => o.Directory = paths.LogDirectory)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(sp => new LocalClickLog(
            sp.GetRequiredService<IOptions<LocalLogOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IClickLog>(sp => sp.GetRequiredService<LocalClickLog>());
        builder.AddEmbeddedAggregation(paths);
        builder.AddEmbeddedReconciliation(paths);
        return builder;
    }

    /// <summary>The embedded read side: the DuckDB store, in-memory claims, the log consumer and the API-key query API.</summary>
    private static void AddEmbeddedAggregation(this IHostApplicationBuilder builder, EmbeddedPaths paths)
    {
        var services = builder.Services;
        services.AddOptions<DedupOptions>().BindConfiguration(DedupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ClickStoreOptions>()
            .BindConfiguration(ClickStoreOptions.Section)
            .Configure(o => o.Path = paths.StorePath)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<ClickConsumerOptions>().BindConfiguration(ClickConsumerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ClickStoreOptions>>().Value;
            var store = new DuckDbClickStore(options);
            // An operator sizing the box wants the limit the store chose (docs/operations.md, sizing).
            DuckDbClickStore.LogOpened(sp.GetRequiredService<ILoggerFactory>().CreateLogger<DuckDbClickStore>(), store.Path, store.MemoryLimit, options.MemoryLimit);
            return store;
        });
        services.AddSingleton<IClickQueries>(sp => sp.GetRequiredService<DuckDbClickStore>());
        services.AddSingleton(sp => new EmbeddedClaimStore(sp.GetRequiredService<IOptions<DedupOptions>>().Value.Horizon));
        services.AddSingleton<IClaimStore>(sp => sp.GetRequiredService<EmbeddedClaimStore>());
        services.AddSingleton<ClickConsumer>();
        services.AddHostedService(sp => sp.GetRequiredService<ClickConsumer>());
        builder.AddApiKeyAdvertisers();
        builder.AddQueryApi();
    }
}
