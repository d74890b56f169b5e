using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace ClickFunctions.Azure.Kusto;

/// <summary>
/// Queued (bulk) ingestion over the documented REST path that the official clients take ("Ingestion without
/// Kusto.Ingest library", learn.microsoft.com/kusto/api/netfx/kusto-ingest-client-rest; the Python client's
/// QueuedIngestClient and IngestionBlobInfo): ask the Data Management endpoint (<c>ingest-</c>) for
/// <c>.get ingestion resources</c> (rows <c>SecuredReadyForAggregationQueue</c> and <c>TempStorage</c>, each a URI
/// with a SAS) and <c>.get kusto identity token</c> (<c>AuthorizationContext</c>), upload the MultiJson rows as a
/// blob to a temporary container, then post the ingestion message (JSON, base64 as the clients encode it) to an
/// ingestion queue. The service ingests at least once: a blob ingested twice writes the same row ids, which
/// <c>ClickBucketsDedup</c> collapses (decision 063).
/// </summary>
public sealed partial class KustoClient
{
    private IngestionResources? _resources;

    /// <summary>
    /// What <c>.get ingestion resources</c> and <c>.get kusto identity token</c> answered, and when. FailedQueues are
    /// the <c>FailedIngestionsQueue</c> rows: where the service reports a queued ingestion that failed (ReportLevel 0),
    /// read by <see cref="IngestionFailureDrain"/>.
    /// </summary>
    public sealed record IngestionResources(IReadOnlyList<Uri> Queues, IReadOnlyList<Uri> TempContainers, string AuthorizationContext, long FetchedAt)
    {
        public IReadOnlyList<Uri> FailedQueues { get; init; } = [];
    }

    public async Task<IngestionResources> GetIngestionResourcesAsync(CancellationToken cancellationToken)
    {
        var current = _resources;
        if (current is not null && _time.GetElapsedTime(current.FetchedAt) < _options.IngestionResourcesLifetime)
        {
            return current;
        }
        // Two batches refreshing at once both ask: harmless (the answers are equivalent), and rarer than a lock is worth.
        {
            Uri dm = _options.ResolvedIngestUri();
            var table = await ManagementAsync(dm, _options.Database, ".get ingestion resources", cancellationToken).ConfigureAwait(false);
            int type = table.Ordinal("ResourceTypeName"), root = table.Ordinal("StorageRoot");
            List<Uri> Of(string kind) => table.Rows
                .Where(r => string.Equals(KustoTable.GetString(r[type]), kind, StringComparison.Ordinal))
                .Select(r => new Uri(KustoTable.GetString(r[root]) ?? throw new KustoException($"Ingestion resource {kind} has no StorageRoot.")))
                .ToList();
            var queues = Of("SecuredReadyForAggregationQueue");
            var containers = Of("TempStorage");
            if (queues.Count == 0 || containers.Count == 0)
            {
                throw new KustoException("The Data Management service returned no ingestion queue or no temporary storage.");
            }
            var identity = await ManagementAsync(dm, _options.Database, ".get kusto identity token", cancellationToken).ConfigureAwait(false);
            string token = identity.Rows.Count == 1 ? KustoTable.GetString(identity.Rows[0][identity.Ordinal("AuthorizationContext")]) ?? "" : "";
            if (token.Length == 0)
            {
                throw new KustoException("The Data Management service returned no identity token.");
            }
            _resources = new IngestionResources(queues, containers, token, _time.GetTimestamp()) { FailedQueues = Of("FailedIngestionsQueue") };
            return _resources;
        }
    }

    private async Task IngestQueuedAsync(byte[] payload, int rows, string batchId, CancellationToken cancellationToken)
    {
        var resources = await GetIngestionResourcesAsync(cancellationToken).ConfigureAwait(false);
        var sourceId = Guid.NewGuid();
        // Spread over the containers and queues the service gives, as its guidance asks (to avoid throttling one account).
        var container = new BlobContainerClient(resources.TempContainers[Random.Shared.Next(resources.TempContainers.Count)]);
        string blobName = QueuedBlobName(sourceId, batchId);
        var blob = container.GetBlobClient(blobName);
        await blob.UploadAsync(new BinaryData(payload), overwrite: false, cancellationToken).ConfigureAwait(false);

        var queue = new QueueClient(resources.Queues[Random.Shared.Next(resources.Queues.Count)], new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        string message = IngestionMessage(sourceId, blob.Uri, payload.Length, resources.AuthorizationContext, _time.GetUtcNow());
        await queue.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
        Log.Queued(logger, rows, payload.Length, blobName);
    }

    /// <summary>
    /// The temporary blob's name: database, table, the ingestion's source id and the batch (partition and sequence
    /// range, or the reconcile window of a correction). The service reports a failed ingestion with the blob's path
    /// (<c>IngestionSourcePath</c>), so the name is how a failure finds its batch (<see cref="TryParseQueuedBlob"/>).
    /// Batch ids hold digits, letters, '-', ':' and '/'; ':' and '/' are written '_' and '~' (neither occurs in them).
    /// </summary>
    public string QueuedBlobName(Guid sourceId, string batchId)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        return string.Create(CultureInfo.InvariantCulture, $"{_options.Database}__{_options.BucketTable}__{sourceId:N}__{batchId.Replace(':', '_').Replace('/', '~')}.multijson");
    }

    /// <summary>The source id and batch id a temporary blob's name (or URI, with or without a SAS) carries; false for a blob not named by this client.</summary>
    public static bool TryParseQueuedBlob(string? blobPathOrUri, out Guid sourceId, out string batchId)
    {
        sourceId = Guid.Empty;
        batchId = "";
        if (string.IsNullOrEmpty(blobPathOrUri))
        {
            return false;
        }
        string path = Uri.TryCreate(blobPathOrUri, UriKind.Absolute, out var uri) ? uri.AbsolutePath : blobPathOrUri.Split('?')[0];
        string name = Uri.UnescapeDataString(path.Split('/')[^1]);
        const string Suffix = ".multijson";
        if (!name.EndsWith(Suffix, StringComparison.Ordinal))
        {
            return false;
        }
        string[] parts = name[..^Suffix.Length].Split("__");
        if (parts.Length != 4 || !Guid.TryParseExact(parts[2], "N", out sourceId) || parts[3].Length == 0)
        {
            return false;
        }
        batchId = parts[3].Replace('_', ':').Replace('~', '/');
        return true;
    }

    /// <summary>
    /// The ingestion message ("Ingestion message internal structure"; field names as the official clients write
    /// them): failures are reported to the failed-ingestions queue (ReportLevel 0, ReportMethod 0); the service may
    /// delete the temporary blob once ingested (RetainBlobOnSuccess false).
    /// </summary>
    public string IngestionMessage(Guid sourceId, Uri blobWithSas, long rawDataSize, string authorizationContext, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(blobWithSas);
        var message = new JsonObject
        {
            ["Id"] = sourceId.ToString(),
            ["BlobPath"] = blobWithSas.AbsoluteUri,
            ["RawDataSize"] = rawDataSize,
            ["DatabaseName"] = _options.Database,
            ["TableName"] = _options.BucketTable,
            ["RetainBlobOnSuccess"] = false,
            ["FlushImmediately"] = false,
            ["IgnoreSizeLimit"] = false,
            ["ReportLevel"] = 0,
            ["ReportMethod"] = 0,
            ["SourceMessageCreationTime"] = now.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
            ["AdditionalProperties"] = new JsonObject
            {
                ["authorizationContext"] = authorizationContext,
                ["format"] = "multijson",
                ["ingestionMappingReference"] = _options.BucketMapping,
                ["ingestionMappingType"] = "Json",
            },
        };
        return message.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
