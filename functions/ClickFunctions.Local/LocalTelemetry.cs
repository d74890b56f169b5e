using OpenTelemetry.Metrics;

namespace ClickFunctions.Local;

/// <summary>
/// The local host's metrics: the same "ClickFunctions" meter the Azure app exports to Application Insights, plus
/// ASP.NET Core's request duration (the 302 latency) and the disk usage of the log and the store (DiskUsage), served in Prometheus text format at /metrics.
/// </summary>
public static class LocalTelemetry
{
    public const string MetricsPath = "/metrics";

    public static WebApplicationBuilder AddLocalTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ClickMetrics.MeterName, ClickFunctions.Embedded.DiskUsage.MeterName, "Microsoft.AspNetCore.Hosting")
            .AddPrometheusExporter());
        return builder;
    }

    public static WebApplication MapLocalTelemetry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }
}
