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

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
