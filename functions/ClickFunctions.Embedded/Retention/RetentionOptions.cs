using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Embedded.Retention;

/// <summary>
/// Configuration section <c>Retention</c>: how long the embedded shape keeps the raw log and each rollup. The defaults
/// are the Azure shape's KQL retention policies (infra/kusto/01-tables.kql and 02-views.kql): 35 days of raw bucket
/// rows (here: the raw log, from which buckets are recounted), 90 days of minutes, 730 of hours, 1825 of days
/// (docs/decisions/085-embedded-retention.md).
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Sealed log segments whose newest click is older than this go, once consumed and reconciled.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan Log { get; set; } = TimeSpan.FromDays(35);

    [Range(typeof(TimeSpan), "00:01:00", "36500.00:00:00")]
    public TimeSpan Minute { get; set; } = TimeSpan.FromDays(90);

    [Range(typeof(TimeSpan), "01:00:00", "36500.00:00:00")]
    public TimeSpan Hour { get; set; } = TimeSpan.FromDays(730);

    [Range(typeof(TimeSpan), "1.00:00:00", "36500.00:00:00")]
    public TimeSpan Day { get; set; } = TimeSpan.FromDays(1825);

    /// <summary>Whether the host applies retention at all (off: nothing is ever deleted, as before).</summary>
    public bool Enabled { get; set; } = true;
}
