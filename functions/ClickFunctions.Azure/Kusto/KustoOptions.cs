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

    /// <summary>Managed (default), Streaming or Queued: see <see cref="KustoIngestionMode"/> and decision 063.</summary>
    public KustoIngestionMode IngestionMode { get; set; } = KustoIngestionMode.Managed;

    /// <summary>
    /// The Data Management (ingest) endpoint that queued ingestion asks for its resources, by default the cluster's
    /// with <c>ingest-</c> before the host name (as the official clients derive it), e.g.
    /// <c>https://ingest-adxclicks.westeurope.kusto.windows.net</c>.
    /// </summary>
    public Uri? IngestUri { get; set; }

    /// <summary>
    /// The table volume above which Managed mode queues: ADX advises queued (bulk) ingestion instead of streaming
    /// "when the amount of data grows to more than 4 GB per hour per table" (".alter table policy streamingingestion").
    /// </summary>
    [Range(1_000_000L, 100_000_000_000L)]
    public long StreamingMaxBytesPerHour { get; set; } = 4_000_000_000;

    /// <summary>
    /// The Event Hubs partitions feeding the table (infra/main.bicep eventHubPartitionCount): clicks are spread evenly
    /// over them by click id (decision 065), so one partition's volume times this is the table's.
    /// </summary>
    [Range(1, 1024)]
    public int SourcePartitions { get; set; } = 32;

    /// <summary>Largest blob one queued ingestion uploads (an aggregator batch is ~0.3 MB; the service merges small blobs per the table's ingestion batching policy, sealed after 30 s in infra/kusto).</summary>
    [Range(4096, 1_000_000_000)]
    public int MaxQueuedBlobBytes { get; set; } = 100_000_000;

    /// <summary>How long the ingestion resources and identity token from the Data Management service are reused.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan IngestionResourcesLifetime { get; set; } = TimeSpan.FromHours(1);

    public Uri ResolvedIngestUri() =>
        IngestUri ?? new UriBuilder(ClusterUri!) { Host = "ingest-" + ClusterUri!.Host }.Uri;
}

/// <summary>How bucket rows reach ADX (decision 063).</summary>
public enum KustoIngestionMode
{
    /// <summary>Streaming while the table's estimated volume is under <see cref="KustoOptions.StreamingMaxBytesPerHour"/>, queued above it, for payloads over the streaming limit, and when streaming still fails transiently.</summary>
    Managed,

    /// <summary>Streaming ingestion only (requests of at most <see cref="KustoOptions.MaxIngestBytes"/>).</summary>
    Streaming,

    /// <summary>Queued ingestion only, through the Data Management service.</summary>
    Queued,
}
