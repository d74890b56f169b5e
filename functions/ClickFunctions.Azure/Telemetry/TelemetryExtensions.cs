using Azure.Core;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ClickFunctions.Azure.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>
    /// OpenTelemetry with the Azure Monitor exporter: the "ClickFunctions" meter (clicks.*, aggregate.*, reconcile.*)
    /// and the worker's traces go to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, with
    /// Entra authentication (the app's identity) when APPLICATIONINSIGHTS_AUTHENTICATION_STRING asks for it.
    /// </summary>
    public static IHostApplicationBuilder AddClickTelemetry(this IHostApplicationBuilder builder, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string? connectionString = builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        bool entraAuth = builder.Configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]?.Contains("Authorization=AAD", StringComparison.OrdinalIgnoreCase) == true;
        var otel = builder.Services.AddOpenTelemetry();
        otel.UseFunctionsWorkerDefaults();
        otel.WithMetrics(metrics => metrics.AddMeter(ClickMetrics.MeterName));
        if (string.IsNullOrEmpty(connectionString))
        {
            return builder;
        }
        var exporterCredential = entraAuth ? credential : null;
        otel.WithMetrics(metrics => metrics.AddAzureMonitorMetricExporter(o => o.ConnectionString = connectionString, exporterCredential))
            .WithTracing(tracing => tracing.AddAzureMonitorTraceExporter(o => o.ConnectionString = connectionString, exporterCredential));
        return builder;
    }
}
