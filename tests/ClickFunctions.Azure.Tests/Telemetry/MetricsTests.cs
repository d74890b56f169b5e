using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ClickFunctions.Azure.EventHubs;
using ClickFunctions.Azure.Tests.EventHubs;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Functions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace ClickFunctions.Azure.Tests.Telemetry;

/// <summary>The metric names the workbook and alerts use, on the "ClickFunctions" meter the exporter exports.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Publishing_records_latency_batch_size_and_failures_under_their_workbook_names()
    {
        var seen = new ConcurrentDictionary<string, double>();
        var meters = TestClicks.Meters();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ClickMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => seen.AddOrUpdate(i.Name, v, (_, old) => old + v));
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => seen.AddOrUpdate(i.Name, v, (_, old) => old + v));
        listener.Start();

        var ok = new RecordingProducer();
        await using (var log = new EventHubClickLog(ok, Options.Create(new EventHubClickLogOptions { FullyQualifiedNamespace = "ns", EventHubName = "h" }), new AzureClickMetrics(meters), TimeProvider.System, NullLogger<EventHubClickLog>.Instance))
        {
            await log.AppendAsync(TestClicks.Make("ad-1", "m1"), TestContext.Current.CancellationToken);
        }
        var failing = new RecordingProducer { Failure = new IOException("down") };
        await using (var log = new EventHubClickLog(failing, Options.Create(new EventHubClickLogOptions { FullyQualifiedNamespace = "ns", EventHubName = "h" }), new AzureClickMetrics(meters), TimeProvider.System, NullLogger<EventHubClickLog>.Instance))
        {
            await Assert.ThrowsAsync<ClickLogUnavailableException>(() => log.AppendAsync(TestClicks.Make("ad-1", "m2"), TestContext.Current.CancellationToken).AsTask());
        }

        Assert.Equal(1, seen["clicks.publish.batch_size"]);
        Assert.True(seen.ContainsKey("clicks.publish.latency"));
        Assert.Equal(1, seen["clicks.publish.failures"]);
    }

    [Fact]
    public async Task The_app_exports_the_ClickFunctions_meter_through_OpenTelemetry()
    {
        var settings = AppSettings.Valid();
        settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/";
        var host = ClickFunctionsApp.CreateBuilder(AppSettings.AsArgs(settings)).Build();
        try
        {
            var provider = host.Services.GetService<MeterProvider>();
            Assert.NotNull(provider);
            // The provider listens to the meter the adapters write to: an instrument on it is enabled.
            var meter = host.Services.GetRequiredService<IMeterFactory>().Create(ClickMetrics.MeterName);
            var probe = meter.CreateCounter<long>("probe");
            Assert.True(probe.Enabled);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }
}
