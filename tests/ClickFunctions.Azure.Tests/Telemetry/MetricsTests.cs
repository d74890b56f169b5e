using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ClickFunctions.Azure.EventHubs;
using ClickFunctions.Azure.Tests.EventHubs;
using ClickFunctions.Azure.Tests.Infrastructure;
using ClickFunctions.Clicks;
using ClickFunctions.Ports;
using ClickFunctions.Functions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace ClickFunctions.Azure.Tests.Telemetry;

/// <summary>The metric names the workbook and alerts use, on the "ClickFunctions" meter the exporter exports.</summary>
public sealed class MetricsTests(Azurite azurite)
{
    // Only this test's meters: the listener is process-wide, and other tests in this assembly run in parallel.
    private static (MeterListener Listener, ConcurrentDictionary<string, double> Seen) Listen(IMeterFactory meters)
    {
        var seen = new ConcurrentDictionary<string, double>();
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ClickMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => seen.AddOrUpdate(Key(i, tags), v, (_, old) => old + v));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => seen.AddOrUpdate(Key(i, tags), v, (_, old) => old + v));
        listener.Start();
        return (listener, seen);
    }

    private static string Key(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "reason")
            {
                return instrument.Name + "{" + tag.Value + "}";
            }
        }
        return instrument.Name;
    }

    [Fact]
    public async Task Aggregation_records_batch_size_duplicates_invalid_by_reason_lag_and_ingestion_failures()
    {
        var meters = TestClicks.Meters();
        var (listener, seen) = Listen(meters);
        using var _ = listener;
        await using var adx = await Kusto.LoopbackKusto.StartAsync();
        var claims = new ClickFunctions.Azure.Tables.TableClaimStore(azurite.Tables(),
            Options.Create(new ClickFunctions.Azure.Tables.TableClaimOptions { TableServiceUri = azurite.TableEndpoint, TablePrefix = "m" + Guid.NewGuid().ToString("N")[..12] }),
            TimeProvider.System, NullLogger<ClickFunctions.Azure.Tables.TableClaimStore>.Instance);
        var aggregator = new ClickFunctions.Azure.Aggregation.ClickAggregator(new ClickFunctions.Aggregation.AggregationStep(claims),
            new ClickFunctions.Azure.Kusto.KustoBucketSink(adx.Client()),
            new ClickFunctions.Azure.DeadLetters.BlobDeadLetterWriter(azurite.Blobs().GetBlobContainerClient("m" + Guid.NewGuid().ToString("N")[..12]), NullLogger<ClickFunctions.Azure.DeadLetters.BlobDeadLetterWriter>.Instance),
            new AzureClickMetrics(meters), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestClicks.Noon.AddSeconds(30)),
            NullLogger<ClickFunctions.Azure.Aggregation.ClickAggregator>.Instance);
        var batch = new[]
        {
            new ClickFunctions.Ports.RawEvent("0", 1, TestClicks.Noon, ClickWireFormat.Encode(TestClicks.Make("ad-1", "a"))),
            new ClickFunctions.Ports.RawEvent("0", 2, TestClicks.Noon, ClickWireFormat.Encode(TestClicks.Make("ad-1", "a"))),
            new ClickFunctions.Ports.RawEvent("0", 3, TestClicks.Noon.AddSeconds(10), ClickWireFormat.Encode(TestClicks.Make("ad-1", "b", reason: ClickFunctions.Clicks.ClickReason.BotUserAgent))),
        };
        adx.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 500, """{"error":{"code":"InternalServiceError","message":"boom"}}""");
        await Assert.ThrowsAsync<ClickFunctions.Azure.Kusto.KustoException>(() => aggregator.AggregateAsync(batch, TestContext.Current.CancellationToken));
        adx.Expect("POST", "/v1/rest/ingest/clicks/ClickBuckets?streamFormat=MultiJson&mappingName=ClickBucketsJson", 200, """{"Tables":[]}""");
        await aggregator.AggregateAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(6, seen["aggregate.batch_size"]);
        Assert.Equal(1, seen["aggregate.ingestion.failures"]);
        Assert.Equal(1, seen["aggregate.duplicates"]);
        Assert.Equal(1, seen["clicks.invalid{duplicate}"]);
        Assert.Equal(1, seen["clicks.invalid{bot_user_agent}"]);
        Assert.Equal(20, seen["aggregate.lag"]); // now - newest enqueued time, in seconds
    }

    [Fact]
    public async Task Publishing_records_latency_batch_size_and_failures_under_their_workbook_names()
    {
        var seen = new ConcurrentDictionary<string, double>();
        var meters = TestClicks.Meters();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ClickMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
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
        var host = Program.CreateBuilder(AppSettings.AsArgs(settings)).Build();
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
