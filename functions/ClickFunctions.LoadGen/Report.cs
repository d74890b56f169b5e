using System.Globalization;
using System.Text.Json;

namespace ClickFunctions.LoadGen;

public static class Report
{
    public static readonly double[] Percentiles = [50, 90, 99, 99.9];

    public static void Print(RunResult run, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine(FormattableString.Invariant($"requests   {run.Completed:N0} completed of {run.Sent:N0} sent, {run.Errors:N0} errors, in {run.Elapsed.TotalSeconds:F1} s"));
        output.WriteLine(FormattableString.Invariant($"throughput {run.Throughput:N0} requests/s"));
        output.WriteLine("statuses   " + string.Join("  ", run.Statuses.Select(s => FormattableString.Invariant($"{s.Key}: {s.Value:N0}"))));
        output.WriteLine("latency    " + string.Join("  ", Percentiles.Select(p => FormattableString.Invariant($"p{p}: {run.PercentileMs(p):F2} ms"))) +
            FormattableString.Invariant($"  max: {run.MaxMs:F2} ms"));
    }

    public static string Json(RunResult run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var summary = new Dictionary<string, object>
        {
            ["completed"] = run.Completed,
            ["errors"] = run.Errors,
            ["seconds"] = run.Elapsed.TotalSeconds,
            ["throughput"] = run.Throughput,
            ["statuses"] = run.Statuses.ToDictionary(s => s.Key.ToString(CultureInfo.InvariantCulture), s => s.Value),
            ["p50Ms"] = run.PercentileMs(50),
            ["p90Ms"] = run.PercentileMs(90),
            ["p99Ms"] = run.PercentileMs(99),
            ["p999Ms"] = run.PercentileMs(99.9),
            ["maxMs"] = run.MaxMs,
        };
        return JsonSerializer.Serialize(summary, ReportJson.Default.DictionaryStringObject);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, int>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(long))]
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
internal sealed partial class ReportJson : System.Text.Json.Serialization.JsonSerializerContext;
