using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Azure.Capture;

/// <summary>Section <c>Capture</c>: where Event Hubs Capture writes its Avro files.</summary>
public sealed class CaptureBlobOptions
{
    public const string Section = "Capture";

    /// <summary>e.g. <c>https://stclicks.blob.core.windows.net</c>; authentication is by identity.</summary>
    [Required]
    public Uri? BlobServiceUri { get; set; }

    [Required]
    public string Container { get; set; } = "capture";

    /// <summary>The Event Hubs namespace name (first path segment), e.g. <c>evhns-clicks-dev</c>.</summary>
    [Required]
    public string Namespace { get; set; } = "";

    [Required]
    public string EventHub { get; set; } = "clicks";

    /// <summary>
    /// The capture time window configured on the hub (Capture allows 1 to 15 minutes). The Functions app sets it from
    /// <c>Reconcile:CaptureWindow</c>, so the window is configured once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "00:15:00")]
    public TimeSpan FileWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Where the aggregator sets malformed events aside (same storage account).</summary>
    [Required]
    public string DeadLetterContainer { get; set; } = "deadletters";
}
