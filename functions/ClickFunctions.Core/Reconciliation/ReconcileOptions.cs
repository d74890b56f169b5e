using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Reconciliation;

/// <summary>Configuration section <c>Reconcile</c>: which windows are closed, how far back dedup state is rebuilt, how often the host runs.</summary>
public sealed class ReconcileOptions
{
    public const string Section = "Reconcile";

    /// <summary>
    /// How long after an event is enqueued it may still be missing from the raw files: the Event Hubs Capture time
    /// window in Azure; zero for the local log, which is its own raw file.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:15:00")]
    public TimeSpan CaptureWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long after its click's timestamp an event may still be enqueued. A window [from, to) is closed, and may be
    /// reconciled, once <c>to + CaptureWindow + AllowedLateness</c> has passed. Events later than this are not in the
    /// recount of their window (they are read as part of later windows' dedup lookback only).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Each periodic run reconciles this much, ending at the newest closed minute.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan Span { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the local host runs the periodic reconciliation.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How far before the window raw events are read to rebuild dedup claims; <see langword="null"/> means the dedup
    /// horizon, so that a click id first seen just before the window is still a duplicate inside it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "90.00:00:00")]
    public TimeSpan? DedupLookback { get; set; }
}
