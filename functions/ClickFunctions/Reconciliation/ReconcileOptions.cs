using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Functions.Reconciliation;

/// <summary>Section <c>Reconcile</c>: which windows are closed, and where reports go.</summary>
public sealed class ReconcileOptions
{
    public const string Section = "Reconcile";

    /// <summary>The Capture time window: a file for [t, t + window) is complete only after it.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "00:15:00")]
    public TimeSpan CaptureWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How late an event may still arrive (enqueued) after its click's minute.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Each run reconciles this much, ending at the newest closed minute.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan Span { get; set; } = TimeSpan.FromMinutes(10);

    [Required]
    public string ReportContainer { get; set; } = "reconciliation";
}
