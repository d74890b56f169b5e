using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Azure.EventHubs;

/// <summary>Section <c>EventHubs</c>: where clicks are published and how the publisher groups and salts them.</summary>
public sealed class EventHubClickLogOptions
{
    public const string Section = "EventHubs";

    /// <summary>e.g. <c>evhns-clicks.servicebus.windows.net</c>; authentication is by identity (no connection string).</summary>
    [Required]
    public string FullyQualifiedNamespace { get; set; } = "";

    [Required]
    public string EventHubName { get; set; } = "";

    /// <summary>Clicks waiting for a send, across all partition keys. When full, appends wait (backpressure).</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 20_000;

    /// <summary>At most this many clicks are taken into one group commit.</summary>
    [Range(1, 100_000)]
    public int MaxClicksPerCommit { get; set; } = 2_000;

    /// <summary>Group commits in flight at once; while all are busy, new clicks gather into the next, larger commit.</summary>
    [Range(1, 64)]
    public int MaxConcurrentSends { get; set; } = 4;

    /// <summary>Ads always salted (spread over 2^SaltBits partition keys), besides those detected as hot.</summary>
    public IList<string> HotAds { get; } = [];

    /// <summary>An ad whose measured click rate on this instance exceeds this is salted during the next window.</summary>
    [Range(1.0, 1_000_000.0)]
    public double HotAdClicksPerSecond { get; set; } = 200;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HotAdWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Bound on the per-ad rate table, so memory stays bounded however many ads are clicked.</summary>
    [Range(1, 10_000_000)]
    public int MaxTrackedAds { get; set; } = 100_000;

    /// <summary>Salt width: a hot ad's clicks spread over 2^SaltBits partition keys (salt = low bits of the click id).</summary>
    [Range(1, 8)]
    public int SaltBits { get; set; } = 3;
}
