using System.Text.Json;
using Azure.Storage.Blobs;
using ClickFunctions.Aggregation;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Azure.DeadLetters;

/// <summary>
/// Sets malformed events aside: one JSON-lines blob per batch in the dead-letter container, named after the batch
/// (partition and sequence range), so a retried batch overwrites its own file instead of adding a second one.
/// </summary>
public sealed partial class BlobDeadLetterWriter(BlobContainerClient container, ILogger<BlobDeadLetterWriter> logger)
{
    private int _created;

    public async Task WriteAsync(string batchId, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken)
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
        string name = batchId.Replace(':', '/') + ".jsonl";
        await container.GetBlobClient(name).UploadAsync(buffer, overwrite: true, cancellationToken).ConfigureAwait(false);
        Log.DeadLettered(logger, deadLetters.Count, batchId, name);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Set {Count} malformed events of batch {BatchId} aside in {Blob}")]
        public static partial void DeadLettered(ILogger logger, int count, string batchId, string blob);
    }
}
