using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ClickFunctions.Ports;
using ClickFunctions.Aggregation;
using ClickFunctions.Azure.Kusto;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Azure.DeadLetters;

/// <summary>
/// Sets malformed events aside: one JSON-lines blob per batch in the dead-letter container, named after the batch
/// (partition and sequence range), so a retried batch overwrites its own file instead of adding a second one.
/// A whole batch that could not be aggregated goes to <c>failed/&lt;partition&gt;/&lt;range&gt;.jsonl</c>, every line
/// with the reason, and the blob carries the reason in its metadata too.
/// </summary>
public sealed partial class BlobDeadLetterWriter(BlobContainerClient container, ILogger<BlobDeadLetterWriter> logger)
{
    private int _created;

    public const string FailedBatchPrefix = "failed/";

    public static string BlobName(string batchId) => batchId.Replace(':', '/') + ".jsonl";

    public Task WriteAsync(string batchId, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken) =>
        WriteAsync(batchId, BlobName(batchId), deadLetters, null, cancellationToken);

    /// <summary>Sets a whole batch aside, with the reason it could not be aggregated.</summary>
    public Task WriteFailedBatchAsync(string batchId, IReadOnlyList<RawEvent> batch, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return WriteAsync(batchId, FailedBatchPrefix + BlobName(batchId), batch.Select(e => new DeadLetter(e, reason)).ToList(), reason, cancellationToken);
    }

    /// <summary>
    /// The name a failed queued ingestion is set aside under, beside the aggregator's failed batches of the same
    /// partition: <c>failed/&lt;partition&gt;/&lt;first&gt;-&lt;last&gt;.ingestion-&lt;source id&gt;.jsonl</c> (a batch queued in several
    /// blobs, or queued again, fails as several ingestions; each keeps its own file). Corrections:
    /// <c>failed/reconcile/&lt;window&gt;.ingestion-…</c>; a blob this app did not name: <c>failed/ingestion/&lt;source id&gt;.jsonl</c>.
    /// </summary>
    public static string FailedIngestionBlobName(string batchId, Guid sourceId)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        int colon = batchId.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{FailedBatchPrefix}ingestion/{sourceId:N}.jsonl");
        }
        string rest = batchId[(colon + 1)..].Replace(':', '-').Replace('/', '_');
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{FailedBatchPrefix}{batchId[..colon]}/{rest}.ingestion-{sourceId:N}.jsonl");
    }

    /// <summary>
    /// Sets a failed queued ingestion aside: one JSON line with the batch (partition, sequence range), the reason
    /// and the service's report, the reason in the blob's metadata too, as for a failed batch. The events themselves
    /// are in Capture (and, within retention, in the hub) under that partition and range.
    /// </summary>
    public async Task WriteFailedIngestionAsync(string batchId, Guid sourceId, IngestionFailure failure, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(reason);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("kind", "ingestion");
            writer.WriteString("batchId", batchId);
            var (partition, first, last) = Range(batchId);
            writer.WriteString("partition", partition);
            if (first is { } f && last is { } l)
            {
                writer.WriteNumber("firstSequenceNumber", f);
                writer.WriteNumber("lastSequenceNumber", l);
            }
            writer.WriteString("reason", reason);
            writer.WriteString("failureStatus", failure.FailureStatus);
            writer.WriteString("errorCode", failure.ErrorCode);
            writer.WriteString("details", failure.Details);
            writer.WriteString("operationId", failure.OperationId);
            writer.WriteString("ingestionSourceId", failure.IngestionSourceId);
            writer.WriteString("ingestionSourcePath", failure.SourcePathWithoutSecret);
            writer.WriteString("failedOn", failure.FailedOn);
            writer.WriteBoolean("originatesFromUpdatePolicy", failure.OriginatesFromUpdatePolicy);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        await UploadAsync(FailedIngestionBlobName(batchId, sourceId), buffer, reason, cancellationToken).ConfigureAwait(false);
        Log.DeadLettered(logger, 1, batchId, FailedIngestionBlobName(batchId, sourceId));
    }

    /// <summary>A message in the failed-ingestions queue that is no failure report: kept as it was, for someone to read.</summary>
    public async Task WriteUnreadableIngestionReportAsync(string messageId, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        ArgumentNullException.ThrowIfNull(text);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("kind", "unreadable_ingestion_report");
            writer.WriteString("reason", "not a failure report");
            writer.WriteString("message", text);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        string name = FailedBatchPrefix + "ingestion/unreadable-" + new string(messageId.Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_').ToArray()) + ".jsonl";
        await UploadAsync(name, buffer, "not a failure report", cancellationToken).ConfigureAwait(false);
    }

    private static (string Partition, long? First, long? Last) Range(string batchId)
    {
        int colon = batchId.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return ("", null, null);
        }
        string[] range = batchId[(colon + 1)..].Split('-');
        return range.Length == 2 && long.TryParse(range[0], System.Globalization.CultureInfo.InvariantCulture, out long first)
            && long.TryParse(range[1], System.Globalization.CultureInfo.InvariantCulture, out long last)
            ? (batchId[..colon], first, last)
            : (batchId[..colon], null, null);
    }

    private async Task UploadAsync(string name, MemoryStream buffer, string reason, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _created, 1) == 0)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        buffer.Position = 0;
        var options = new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["reason"] = MetadataValue(reason) } };
        await container.GetBlobClient(name).UploadAsync(buffer, options, cancellationToken).ConfigureAwait(false);
    }

    // Metadata values are ASCII HTTP header values: keep it short and printable.
    private static string MetadataValue(string reason) => new(reason.Take(1024).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    private async Task WriteAsync(string batchId, string name, IReadOnlyList<DeadLetter> deadLetters, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        ArgumentNullException.ThrowIfNull(deadLetters);
        if (deadLetters.Count == 0)
        {
            return;
        }
        if (Interlocked.Exchange(ref _created, 1) == 0)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        using var buffer = new MemoryStream();
        foreach (var letter in deadLetters)
        {
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("partition", letter.Event.Partition);
                writer.WriteNumber("sequenceNumber", letter.Event.SequenceNumber);
                writer.WriteString("enqueuedTime", letter.Event.EnqueuedTime);
                writer.WriteString("reason", letter.Reason);
                writer.WriteBase64String("body", letter.Event.Body.Span);
                writer.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
        }
        buffer.Position = 0;
        var options = new BlobUploadOptions();
        if (reason is not null)
        {
            options.Metadata = new Dictionary<string, string> { ["reason"] = MetadataValue(reason) };
        }
        await container.GetBlobClient(name).UploadAsync(buffer, options, cancellationToken).ConfigureAwait(false);
        Log.DeadLettered(logger, deadLetters.Count, batchId, name);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Set {Count} events of batch {BatchId} aside in {Blob}")]
        public static partial void DeadLettered(ILogger logger, int count, string batchId, string blob);
    }
}
