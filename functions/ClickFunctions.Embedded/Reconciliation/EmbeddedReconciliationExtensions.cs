using ClickFunctions.Aggregation;
using ClickFunctions.Embedded.Log;
using ClickFunctions.Embedded.Retention;
using ClickFunctions.Embedded.Store;
using ClickFunctions.Reconciliation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Embedded.Reconciliation;

public static class EmbeddedReconciliationExtensions
{
    /// <summary>
    /// Defaults for the local log, applied before configuration binds: the log is its own raw file, so nothing waits
    /// for a capture window; clicks are timestamped a few milliseconds before their fsync, so a minute of lateness is ample.
    /// </summary>
    public static void LocalDefaults(ReconcileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.CaptureWindow = TimeSpan.Zero;
        options.AllowedLateness = TimeSpan.FromMinutes(1);
    }

    /// <summary>
    /// The periodic reconciler of the embedded host (section <c>Reconcile</c>): the core reconciler over the local log
    /// and the DuckDB store, reports under <see cref="EmbeddedPaths.ReportDirectory"/>. Part of
    /// <see cref="EmbeddedAdaptersExtensions.AddEmbeddedAdapters"/>, which registers the log, store and dedup options it needs.
    /// </summary>
    internal static IHostApplicationBuilder AddEmbeddedReconciliation(this IHostApplicationBuilder builder, EmbeddedPaths paths)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<ReconcileOptions>()
            .Configure(LocalDefaults)
            .BindConfiguration(ReconcileOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.Span >= o.Interval, "Reconcile:Span must be at least Reconcile:Interval, or some minutes would never be reconciled.")
            .ValidateOnStart();
        services.TryAddSingleton<ReconcileMetrics>();
        services.AddSingleton(sp => new LocalLogRawSource(sp.GetRequiredService<IOptions<LocalLogOptions>>().Value.Directory));
        services.AddSingleton(sp => new DuckDbBucketCorrections(sp.GetRequiredService<DuckDbClickStore>()));
        services.AddSingleton(sp => new Reconciler(
            sp.GetRequiredService<LocalLogRawSource>(),
            sp.GetRequiredService<DuckDbBucketCorrections>(),
            sp.GetRequiredService<IOptions<ReconcileOptions>>().Value,
            sp.GetRequiredService<IOptions<DedupOptions>>().Value.Horizon,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ReconcileMetrics>(),
            sp.GetService<FloodRule>()));
        services.AddSingleton(sp => new ReconcileReports(paths.ReportDirectory, sp.GetRequiredService<TimeProvider>()));
        services.AddOptions<RetentionOptions>()
            .BindConfiguration(RetentionOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RetentionOptions>, RetentionOptionsValidator>();
        services.AddSingleton(sp => new RetainedWindows(
            sp.GetRequiredService<DuckDbClickStore>(),
            sp.GetRequiredService<IOptions<LocalLogOptions>>().Value.Directory,
            DedupLookback(sp)));
        services.AddSingleton(sp => new RetentionSweep(
            sp.GetRequiredService<DuckDbClickStore>(),
            sp.GetRequiredService<IOptions<LocalLogOptions>>().Value.Directory,
            sp.GetRequiredService<IOptions<RetentionOptions>>().Value,
            sp.GetRequiredService<ILogger<RetentionSweep>>(),
            sp.GetRequiredService<Operations.MaintenanceLock>()));
        services.AddSingleton(sp => new EmbeddedReconciliation(
            sp.GetRequiredService<Reconciler>(), sp.GetRequiredService<ReconcileReports>(), sp.GetRequiredService<ILogger<EmbeddedReconciliation>>(),
            sp.GetRequiredService<RetainedWindows>(),
            sp.GetRequiredService<DuckDbClickStore>()));
        services.AddSingleton(sp => new PeriodicReconciler(
            sp.GetRequiredService<EmbeddedReconciliation>(),
            sp.GetRequiredService<IOptions<ReconcileOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PeriodicReconciler>>(),
            sp.GetRequiredService<IOptions<RetentionOptions>>().Value.Enabled ? sp.GetRequiredService<RetentionSweep>() : null,
            sp.GetRequiredService<DuckDbClickStore>()));
        services.AddHostedService(sp => sp.GetRequiredService<PeriodicReconciler>());
        return builder;
    }

    /// <summary>How far before a window its recount reads the log: the dedup lookback, or the dedup horizon.</summary>
    internal static TimeSpan DedupLookback(IServiceProvider services) =>
        services.GetRequiredService<IOptions<ReconcileOptions>>().Value.DedupLookback
        ?? services.GetRequiredService<IOptions<DedupOptions>>().Value.Horizon;
}
