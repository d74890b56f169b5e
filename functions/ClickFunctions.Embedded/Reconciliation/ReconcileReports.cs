using System.Globalization;
using System.Text.Json;
using ClickFunctions.Reconciliation;

namespace ClickFunctions.Embedded.Reconciliation;

/// <summary>Writes each run's report as JSON to <c>{data-dir}/reconcile/</c>, one file per run.</summary>
public sealed class ReconcileReports(string directory, TimeProvider time)
{
    public const string DirectoryName = "reconcile";

    public string Directory => directory;

    public string Write(ReconcileReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        System.IO.Directory.CreateDirectory(directory);
        string name = string.Create(CultureInfo.InvariantCulture,
            $"reconcile-{report.From.UtcDateTime:yyyyMMdd'T'HHmm'Z'}-{report.To.UtcDateTime:yyyyMMdd'T'HHmm'Z'}-{time.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}.json");
        string path = Path.Combine(directory, name);
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(report, ReconcileJson.Default.ReconcileReport));
        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
