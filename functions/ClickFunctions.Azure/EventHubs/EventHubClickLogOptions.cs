using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Azure.EventHubs;

/// <summary>Section <c>EventHubs</c>: where clicks are published and how the publisher groups and retries sends.</summary>
public sealed class EventHubClickLogOptions
{
    public const string Section = "EventHubs";

    /// <summary>e.g. <c>evhns-clicks.servicebus.windows.net</c>; authentication is by identity (no connection string).</summary>
    [Required]
    public string FullyQualifiedNamespace { get; set; } = "";

    [Required]
    public string EventHubName { get; set; } = "";

    /// <summary>Clicks waiting for a send, across all partitions. When full, appends wait (backpressure).</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 20_000;

    /// <summary>At most this many clicks are taken into one group commit (then split into one batch per partition).</summary>
    [Range(1, 100_000)]
    public int MaxClicksPerCommit { get; set; } = 2_000;

    /// <summary>Group commits in flight at once; while all are busy, new clicks gather into the next, larger commit.</summary>
    [Range(1, 64)]
    public int MaxConcurrentSends { get; set; } = 4;

    /// <summary>
    /// A send that fails with a transient error (ServerBusy when a throughput unit is exceeded, a timeout, a
    /// connection problem) is tried again up to this many times before its callers get 503. The producer client's
    /// own retries are off, so each retry is counted (<c>clicks.publish.retries</c>).
    /// </summary>
    [Range(0, 10)]
    public int SendRetries { get; set; } = 3;

    /// <summary>
    /// Delay before the first retry; doubled on each further one, with jitter (half to all of it), capped by
    /// <see cref="SendRetryMaxDelay"/>. The defaults (3 retries from 300 ms) wait at least 1.05 s in all, so the last
    /// retry falls after the one-second window a throughput unit is measured over.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan SendRetryDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan SendRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one send may take before it counts as failed (the SDK's TryTimeout).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
