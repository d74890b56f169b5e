using System.Diagnostics.Metrics;
using ClickFunctions.Azure;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Bicep;

/// <summary>
/// The alert and the metric it reads agree on the unit (issue 11, finding 6: aggregate.lag was recorded in seconds
/// while the alert's threshold was in milliseconds, so a 60 s threshold fired after ~16.7 h). Reads both sides: the
/// instrument the app creates (its declared unit and what it records) and the compiled Bicep alert.
/// </summary>
public sealed class MetricUnitsTests
{
    private sealed class Meters : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }

    private static (string? Unit, List<double> Values) RecordLag(params TimeSpan[] lags)
    {
        using var meters = new Meters();
        string? unit = null;
        var values = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name == AzureClickMetrics.LagMetric)
            {
                unit = instrument.Unit;
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, v, _, _) => values.Add(v));
        listener.Start();
        var metrics = new AzureClickMetrics(meters);
        foreach (var lag in lags)
        {
            metrics.Lag(lag);
        }
        return (unit, values);
    }

    [Fact]
    public async Task The_lag_alert_compares_the_metric_in_the_unit_it_is_recorded_in()
    {
        var (unit, values) = RecordLag(TimeSpan.FromSeconds(61), TimeSpan.FromSeconds(59));

        var template = await BicepCli.MainTemplateAsync();
        var rules = Assert.Single(template.Created("Microsoft.Insights/scheduledQueryRules"));
        var alert = Assert.Single(rules.Variable("alerts")!.AsArray(), a => ((string)a!["query"]!).Contains("\"aggregate.lag\"", StringComparison.Ordinal))!;
        string measure = (string)alert["measure"]!;
        string threshold = (string)alert["threshold"]!;
        long defaultThreshold = (long)template.Root["parameters"]!["aggregatorLagThresholdMs"]!["defaultValue"]!;

        // Both say milliseconds: the instrument's unit, the alert's measure and its threshold parameter.
        Assert.Equal("ms", unit);
        Assert.EndsWith("Ms", measure, StringComparison.Ordinal);
        Assert.Equal("[parameters('aggregatorLagThresholdMs')]", threshold);
        // And the numbers mean the same thing: the default threshold is one minute, so a 61 s lag fires and 59 s does not.
        Assert.Equal(60_000, defaultThreshold);
        Assert.True(values[0] > defaultThreshold);
        Assert.True(values[1] <= defaultThreshold);
    }
}
