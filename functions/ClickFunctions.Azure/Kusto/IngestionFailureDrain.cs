using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ClickFunctions.Azure.DeadLetters;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Kusto;

/// <summary>One failure report of a queued ingestion, as the service posts it to its failed-ingestions queue.</summary>
/// <remarks>
/// Fields as documented for the queue's failure messages ("Kusto.Ingest ingestion status reporting", section
/// "Ingestion failures retrieved from the Azure queue", learn.microsoft.com/kusto/api/netfx/kusto-ingest-client-status;
/// the same names as the official clients' failure message classes): Database, Table, IngestionSourceId,
/// IngestionSourcePath (the blob, possibly with its SAS), FailureStatus (<c>Permanent</c>: no retry will be executed;
/// <c>Transient</c>: a retry will be executed; <c>Exhausted</c>: several retries also failed), OperationId,
/// RootActivityId, FailedOn, Details, ErrorCode, OriginatesFromUpdatePolicy.
/// </remarks>
public sealed record IngestionFailure(
    string? Database,
    string? Table,
    string? OperationId,
    string? IngestionSourceId,
    string? IngestionSourcePath,
    string FailureStatus,
    string? ErrorCode,
    string? Details,
    string? FailedOn,
    bool OriginatesFromUpdatePolicy)
{
    /// <summary>Transient: the service retries it itself; anything else (Permanent, Exhausted, unknown) is final.</summary>
    public bool IsFinal => !string.Equals(FailureStatus, "Transient", StringComparison.OrdinalIgnoreCase);

    /// <summary>The failure's path without a SAS (what may be logged and stored).</summary>
    public string? SourcePathWithoutSecret =>
        IngestionSourcePath is null ? null : IngestionSourcePath.Split('?')[0];

    /// <summary>Parses a queue message (base64 JSON, as the service and the clients encode them; plain JSON accepted too); null if it is neither.</summary>
    public static IngestionFailure? Parse(string messageText)
    {
        ArgumentNullException.ThrowIfNull(messageText);
        string json = messageText.TrimStart().StartsWith('{') ? messageText : TryBase64(messageText) ?? "";
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            string? Text(string name) => root.TryGetProperty(name, out var v) ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => v.GetRawText(),
            } : null;
            // FailureStatus as its name, or as the enumeration's number (Unknown 0, Permanent 1, Transient 2, Exhausted 3).
            string status = Text("FailureStatus") switch
            {
                "1" => "Permanent",
                "2" => "Transient",
                "3" => "Exhausted",
                null or "" or "0" => "Unknown",
                var named => named,
            };
            bool fromUpdatePolicy = root.TryGetProperty(nameof(OriginatesFromUpdatePolicy), out var u) && u.ValueKind == JsonValueKind.True;
            return new IngestionFailure(Text("Database"), Text("Table"), Text("OperationId"), Text("IngestionSourceId"), Text("IngestionSourcePath"),
                status, Text("ErrorCode"), Text("Details"), Text("FailedOn"), fromUpdatePolicy);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? TryBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text.Trim(), buffer, out int written) ? Encoding.UTF8.GetString(buffer, 0, written) : null;
    }
}

/// <summary>What one drain run did.</summary>
public sealed record IngestionFailureDrainReport(int DeadLettered, int Transient, int Unreadable, int NotOurs);

/// <summary>
/// Reads the failed-ingestions queue that <c>.get ingestion resources</c> names (<c>FailedIngestionsQueue</c>): the
/// service posts there each queued ingestion that failed (our messages ask for failures only, ReportLevel 0 /
/// ReportMethod 0, decision 063). Nothing else would see those: the aggregator handed the rows over and its partition
/// moved on. Per message (decision 064):
/// <list type="bullet">
/// <item>a final failure (<c>Permanent</c>, <c>Exhausted</c>, or a status it does not know) of our table is set aside in
/// the dead-letter container beside the aggregator's failed batches, <c>failed/&lt;partition&gt;/&lt;range&gt;…</c>, with the
/// reason (error code, details, operation id), and counted in <c>aggregate.dead_letters</c>, the metric the
/// <c>dead-lettered-batches</c> alert watches; then the message is deleted;</item>
/// <item>a <c>Transient</c> one is only counted (<c>aggregate.ingestion.reported_failures{status}</c>) and deleted: "a
/// retry will be executed" by the service, which reports again if that retry fails for good;</item>
/// <item>a message that is not a failure report is set aside as unreadable (with its text) and deleted;</item>
/// <item>a report for another database or table (the queue belongs to the cluster's Data Management service, which
/// other clients may share) is left in the queue for them.</item>
/// </list>
/// If setting a failure aside fails, its message stays and comes back after the visibility timeout. The rows of a
/// failed ingestion are missing from ADX: reconciliation's recount from Capture restores them as corrections.
/// </summary>
public sealed partial class IngestionFailureDrain(
    KustoClient kusto,
    BlobDeadLetterWriter deadLetters,
    AzureClickMetrics metrics,
    IOptions<KustoOptions> options,
    ILogger<IngestionFailureDrain> logger)
{
    /// <summary>Messages read per run at most, so one run stays bounded (the timer runs every minute).</summary>
    public int MaxMessagesPerRun { get; init; } = 2_000;

    /// <summary>How long a received message stays invisible to other readers while this run handles it.</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public async Task<IngestionFailureDrainReport> DrainAsync(CancellationToken cancellationToken)
    {
        if (options.Value.IngestionMode == KustoIngestionMode.Streaming)
        {
            return new IngestionFailureDrainReport(0, 0, 0, 0); // nothing is ever queued: no failure can be reported
        }
        var resources = await kusto.GetIngestionResourcesAsync(cancellationToken).ConfigureAwait(false);
        int deadLettered = 0, transient = 0, unreadable = 0, notOurs = 0, seen = 0;
        foreach (var queueUri in resources.FailedQueues)
        {
            var queue = new QueueClient(queueUri, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
            while (seen < MaxMessagesPerRun)
            {
                QueueMessage[] messages = (await queue.ReceiveMessagesAsync(Math.Min(32, MaxMessagesPerRun - seen), VisibilityTimeout, cancellationToken).ConfigureAwait(false)).Value;
                if (messages.Length == 0)
                {
                    break;
                }
                foreach (var message in messages)
                {
                    seen++;
                    string text = message.Body.ToString();
                    var failure = IngestionFailure.Parse(text);
                    if (failure is null || (failure.Database is null && failure.Table is null))
                    {
                        await deadLetters.WriteUnreadableIngestionReportAsync(message.MessageId, text, cancellationToken).ConfigureAwait(false);
                        metrics.IngestionFailureReported("unreadable");
                        unreadable++;
                    }
                    else if (!Ours(failure!))
                    {
                        notOurs++;
                        continue; // another client's report: left for it
                    }
                    else if (!failure.IsFinal)
                    {
                        metrics.IngestionFailureReported("transient");
                        Log.Transient(logger, failure.OperationId, failure.ErrorCode, failure.SourcePathWithoutSecret);
                        transient++;
                    }
                    else
                    {
                        await SetAsideAsync(failure, cancellationToken).ConfigureAwait(false);
                        deadLettered++;
                    }
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        return new IngestionFailureDrainReport(deadLettered, transient, unreadable, notOurs);
    }

    private bool Ours(IngestionFailure failure) =>
        string.Equals(failure.Database, options.Value.Database, StringComparison.OrdinalIgnoreCase)
        && string.Equals(failure.Table, options.Value.BucketTable, StringComparison.OrdinalIgnoreCase);

    private async Task SetAsideAsync(IngestionFailure failure, CancellationToken cancellationToken)
    {
        string status = failure.FailureStatus.ToLowerInvariant();
        string reason = string.Create(CultureInfo.InvariantCulture,
            $"ingestion_{status}: queued ingestion failed ({failure.ErrorCode ?? "no error code"}): {failure.Details ?? "no details"}; operation {failure.OperationId ?? "?"}{(failure.OriginatesFromUpdatePolicy ? "; in an update policy" : "")}");
        string batchId = KustoClient.TryParseQueuedBlob(failure.IngestionSourcePath, out var sourceId, out var parsed) ? parsed : "";
        if (sourceId == Guid.Empty && Guid.TryParse(failure.IngestionSourceId, out var reported))
        {
            sourceId = reported;
        }
        await deadLetters.WriteFailedIngestionAsync(batchId, sourceId, failure, reason, cancellationToken).ConfigureAwait(false);
        metrics.IngestionDeadLettered(status);
        Log.SetAside(logger, batchId, failure.FailureStatus, failure.ErrorCode, failure.OperationId, reason);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Queued ingestion of batch {BatchId} failed for good ({Status}, {ErrorCode}, operation {OperationId}); set aside in the dead-letter container: {Reason}")]
        public static partial void SetAside(ILogger logger, string batchId, string status, string? errorCode, string? operationId, string reason);

        [LoggerMessage(2, LogLevel.Warning, "Queued ingestion failed transiently ({ErrorCode}, operation {OperationId}, {Source}); the service retries it")]
        public static partial void Transient(ILogger logger, string? operationId, string? errorCode, string? source);
    }
}
