using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Azure.Kusto;

/// <summary>Section <c>Kusto</c>: the ADX cluster and database the buckets go to and queries read.</summary>
public sealed class KustoOptions
{
    public const string Section = "Kusto";

    /// <summary>e.g. <c>https://adxclicks.westeurope.kusto.windows.net</c>; tokens are requested for <c>{ClusterUri}/.default</c>.</summary>
    [Required]
    public Uri? ClusterUri { get; set; }

    [Required]
    public string Database { get; set; } = "";

    /// <summary>Sent as <c>x-ms-app</c> and <c>request_app_name</c>, so the cluster's logs say who asked.</summary>
    [Required]
    public string Application { get; set; } = "ClickFunctions";

    [Required]
    public string BucketTable { get; set; } = "ClickBuckets";

    [Required]
    public string BucketMapping { get; set; } = "ClickBucketsJson";

    /// <summary>Streaming ingestion takes at most 4 MB per request; larger batches of rows go in several requests.</summary>
    [Range(1024, 4_000_000)]
    public int MaxIngestBytes { get; set; } = 3_500_000;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Attempts of one request answered 429, 408 or 5xx, or timing out; a <c>Retry-After</c> on the answer sets the
    /// wait, else exponential backoff with jitter from <see cref="InitialBackoff"/>. Then the request fails with
    /// <see cref="KustoException"/> (transient; the caller may try later). 4xx answers fail at once with
    /// <see cref="KustoPermanentException"/>.
    /// </summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 6;

    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one attempt may take before it counts as a timeout and is retried.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The most rows one reconcile read of per-ad buckets may return, well under ADX's result truncation (500,000
    /// records or 64 MB by default, "Query limits"); the shards to read are split into queries of at most this many.
    /// </summary>
    [Range(1000, 500_000)]
    public int MaxRowsPerQuery { get; set; } = 200_000;
}
