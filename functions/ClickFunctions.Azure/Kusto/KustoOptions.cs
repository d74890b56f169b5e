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
}
