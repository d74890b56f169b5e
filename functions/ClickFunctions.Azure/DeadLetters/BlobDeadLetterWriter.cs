using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ClickFunctions.Ports;
using ClickFunctions.Aggregation;
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
            // Metadata values are ASCII HTTP header values: keep it short and printable.
            options.Metadata = new Dictionary<string, string> { ["reason"] = new string(reason.Take(1024).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray()) };
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
