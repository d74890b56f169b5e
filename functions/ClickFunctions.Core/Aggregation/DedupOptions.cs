using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Aggregation;

/// <summary>Configuration section <c>Dedup</c>.</summary>
public sealed class DedupOptions
{
    public const string Section = "Dedup";

    /// <summary>
    /// How long a claim lasts, from the claimed click's own timestamp: a click id seen again within this horizon is
    /// a duplicate. Default 24 hours.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan Horizon { get; set; } = TimeSpan.FromHours(24);
}
