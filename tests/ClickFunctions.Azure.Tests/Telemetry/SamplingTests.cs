using System.Text.Json;
using ClickFunctions.Azure.Telemetry;
using ClickFunctions.Azure.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace ClickFunctions.Azure.Tests.Telemetry;

/// <summary>
/// Telemetry volume at the design load (issue 11, finding 6): host.json's Application Insights sampling must cover
/// Request items, which the host emits once per invocation (~100M a day). "excludedTypes: A semi-colon delimited list
/// of types that you don't want to be sampled" (Microsoft Learn, "host.json reference for Azure Functions 2.x and
/// later", logging.applicationInsights.samplingSettings).
/// </summary>
public sealed class SamplingTests
{
    [Fact]
    public void Host_json_samples_request_telemetry()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "host.json")));
        var sampling = host.RootElement.GetProperty("logging").GetProperty("applicationInsights").GetProperty("samplingSettings");
        Assert.True(sampling.GetProperty("isEnabled").GetBoolean());
        string excluded = sampling.TryGetProperty("excludedTypes", out var types) ? types.GetString() ?? "" : "";
        Assert.DoesNotContain("Request", excluded.Split(';', StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
        Assert.InRange(sampling.GetProperty("maxTelemetryItemsPerSecond").GetInt32(), 1, 100);
    }

    [Fact]
    public void The_worker_samples_its_traces_by_default_and_refuses_a_ratio_outside_0_to_1()
    {
        var none = new ConfigurationBuilder().Build();
        Assert.InRange(TelemetryExtensions.TraceSamplingRatio(none), 0.001F, 0.2F);
        var bad = new ConfigurationBuilder().AddInMemoryCollection([new(TelemetryExtensions.TraceSamplingRatioSetting, "1.5")]).Build();
        Assert.Throws<InvalidOperationException>(() => TelemetryExtensions.TraceSamplingRatio(bad));
    }
}
