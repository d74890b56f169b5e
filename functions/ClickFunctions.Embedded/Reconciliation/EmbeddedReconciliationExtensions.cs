using ClickFunctions.Aggregation;
using ClickFunctions.Embedded.Log;
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
    /// and the DuckDB store, reports under <c>{data-dir}/reconcile/</c>. Needs the host's <see cref="LocalLogOptions"/>,
    /// <see cref="DuckDbClickStore"/> and <see cref="DedupOptions"/> registered.
    /// </summary>
    public static IHostApplicationBuilder AddEmbeddedReconciliation(this IHostApplicationBuilder builder, string dataDirectory)
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
        services.AddSingleton(sp => new Reconciler(
            new LocalLogRawSource(sp.GetRequiredService<IOptions<LocalLogOptions>>().Value.Directory),
            new DuckDbBucketCorrections(sp.GetRequiredService<DuckDbClickStore>()),
            sp.GetRequiredService<IOptions<ReconcileOptions>>().Value,
            sp.GetRequiredService<IOptions<DedupOptions>>().Value.Horizon,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ReconcileMetrics>()));
        services.AddSingleton(sp => new ReconcileReports(Path.Combine(dataDirectory, ReconcileReports.DirectoryName), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new EmbeddedReconciliation(
            sp.GetRequiredService<Reconciler>(), sp.GetRequiredService<ReconcileReports>(), sp.GetRequiredService<ILogger<EmbeddedReconciliation>>()));
        services.AddSingleton<PeriodicReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<PeriodicReconciler>());
        return builder;
    }
}
