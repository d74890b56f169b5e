using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ClickFunctions.Ports;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Reconciliation;

/// <summary>
/// Section <c>Checkpoints</c>: where the aggregator's Event Hubs trigger keeps its checkpoints. Unset values are taken
/// from the settings the trigger itself uses (<c>AzureWebJobsStorage</c>, <c>EventHubs:fullyQualifiedNamespace</c>,
/// <c>EVENTHUB_NAME</c>, <c>EVENTHUB_CONSUMER_GROUP</c>) by the Azure wiring.
/// </summary>
public sealed class CheckpointOptions
{
    public const string Section = "Checkpoints";

    /// <summary>The Functions host's storage account (<c>AzureWebJobsStorage</c>), e.g. <c>https://stfunc.blob.core.windows.net</c>.</summary>
    [Required]
    public Uri? BlobServiceUri { get; set; }

    /// <summary>The Event Hubs extension's default checkpoint container (<c>EventHubOptions</c>: "azure-webjobs-eventhub").</summary>
    [Required]
    public string Container { get; set; } = CheckpointPositions.DefaultContainer;

    /// <summary>e.g. <c>ehclicks.servicebus.windows.net</c>; by default the trigger's (<c>EventHubs</c> section, validated there).</summary>
    public string FullyQualifiedNamespace { get; set; } = "";

    /// <summary>By default the trigger's (<c>EVENTHUB_NAME</c>, else <c>EventHubs:EventHubName</c>).</summary>
    public string EventHubName { get; set; } = "";

    [Required]
    public string ConsumerGroup { get; set; } = "$Default";
}

/// <summary>
/// What the aggregator has consumed, per partition, read from the Event Hubs trigger's checkpoint store, so the
/// reconciler never corrects an event the aggregator has not counted yet (it would be counted twice).
/// <para>
/// Layout, from the Event Hubs SDK's blob checkpoint store that the Functions extension uses
/// (Azure.Messaging.EventHubs, <c>BlobCheckpointStoreInternal</c> and <c>BlobMetadataKey</c>): one empty blob per
/// partition named <c>{fully qualified namespace}/{event hub}/{consumer group}/checkpoint/{partition id}</c>, the
/// first three lowercased, in the container <c>azure-webjobs-eventhub</c> (the extension's <c>EventHubOptions</c>);
/// the position is in the blob's metadata: <c>sequencenumber</c> (the last event processed; a processor resumes
/// at the next one) and <c>offset</c>. The trigger writes a checkpoint after each batch's function run.
/// </para>
/// The next sequence number not yet consumed is therefore <c>sequencenumber + 1</c>; a partition without a
/// checkpoint (or with an empty <c>sequencenumber</c>) has consumed nothing that can be trusted, so it reads as 0.
/// </summary>
public sealed class CheckpointPositions(BlobServiceClient blobs, IOptions<CheckpointOptions> options) : IConsumerPositions
{
    public const string DefaultContainer = "azure-webjobs-eventhub";
    public const string SequenceNumberKey = "sequencenumber";
    public const string OffsetKey = "offset";

    private readonly CheckpointOptions _options = options.Value;

    /// <summary>The blob-name prefix of the checkpoints, as the SDK builds it (lowercase).</summary>
    public static string Prefix(string fullyQualifiedNamespace, string eventHubName, string consumerGroup) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{fullyQualifiedNamespace.ToLowerInvariant()}/{eventHubName.ToLowerInvariant()}/{consumerGroup.ToLowerInvariant()}/checkpoint/");

    public async ValueTask<IReadOnlyDictionary<string, long>> ReadAsync(CancellationToken cancellationToken) =>
        (await ReadCheckpointsAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(c => c.Key, c => c.Value.Next, StringComparer.Ordinal);

    /// <summary>Per partition with a checkpoint: the next sequence number not consumed, and when the checkpoint was written.</summary>
    public async Task<IReadOnlyDictionary<string, (long Next, DateTimeOffset? Written)>> ReadCheckpointsAsync(CancellationToken cancellationToken)
    {
        string prefix = Prefix(_options.FullyQualifiedNamespace, _options.EventHubName, _options.ConsumerGroup);
        var container = blobs.GetBlobContainerClient(_options.Container);
        var consumed = new Dictionary<string, (long, DateTimeOffset?)>(StringComparer.Ordinal);
        try
        {
            await foreach (var blob in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
            {
                string partition = blob.Name[prefix.Length..];
                long next = blob.Metadata.TryGetValue(SequenceNumberKey, out string? text) &&
                    long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long sequence) && sequence >= 0
                        ? sequence + 1
                        : 0;
                consumed[partition] = (next, blob.Properties.LastModified);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No container yet: the trigger has never checkpointed; nothing is consumed.
        }
        return consumed;
    }
}
