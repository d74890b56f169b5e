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

    /// <summary>What <c>.get ingestion resources</c> and <c>.get kusto identity token</c> answered, and when.</summary>
    public sealed record IngestionResources(IReadOnlyList<Uri> Queues, IReadOnlyList<Uri> TempContainers, string AuthorizationContext, long FetchedAt);

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
            _resources = new IngestionResources(queues, containers, token, _time.GetTimestamp());
            return _resources;
        }
    }

    private async Task IngestQueuedAsync(byte[] payload, int rows, CancellationToken cancellationToken)
    {
        var resources = await GetIngestionResourcesAsync(cancellationToken).ConfigureAwait(false);
        var sourceId = Guid.NewGuid();
        // Spread over the containers and queues the service gives, as its guidance asks (to avoid throttling one account).
        var container = new BlobContainerClient(resources.TempContainers[Random.Shared.Next(resources.TempContainers.Count)]);
        string blobName = string.Create(CultureInfo.InvariantCulture, $"{_options.Database}__{_options.BucketTable}__{sourceId:N}__buckets.multijson");
        var blob = container.GetBlobClient(blobName);
        await blob.UploadAsync(new BinaryData(payload), overwrite: false, cancellationToken).ConfigureAwait(false);

        var queue = new QueueClient(resources.Queues[Random.Shared.Next(resources.Queues.Count)], new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        string message = IngestionMessage(sourceId, blob.Uri, payload.Length, resources.AuthorizationContext, _time.GetUtcNow());
        await queue.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
        Log.Queued(logger, rows, payload.Length, blobName);
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
