using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Sas;
using ClickFunctions.Azure.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>
/// A loopback stand-in for ADX's Data Management (ingest-) endpoint, over a real queue and blob container in Azurite,
/// and a fake ingestor that drains that queue into a table the way the service does, enforcing its documented rules
/// ("Ingestion without Kusto.Ingest library", learn.microsoft.com/kusto/api/netfx/kusto-ingest-client-rest):
/// <list type="bullet">
/// <item><c>.get ingestion resources</c> answers rows <c>SecuredReadyForAggregationQueue</c> and <c>TempStorage</c>
/// with SAS URIs (Azurite's), <c>.get kusto identity token</c> one <c>AuthorizationContext</c>; every request must
/// carry the bearer token.</item>
/// <item>A message must be base64 JSON within the queue's limit ("Azure Queue Storage: a queue message can be up to
/// 64 KB in size"), with a GUID <c>Id</c>, a <c>BlobPath</c> that exists, <c>DatabaseName</c>/<c>TableName</c>
/// of the target, the identity token in <c>AdditionalProperties.authorizationContext</c> ("The identity token is
/// mandatory and must be part of the AdditionalProperties"), a known format and mapping, and a <c>RawDataSize</c>
/// equal to the blob's uncompressed size. Otherwise the ingestion fails and the reason is kept in <see cref="Failures"/>,
/// and, as the service does with ReportLevel 0 (failures only) and ReportMethod 0 (queue), a failure report is posted to
/// the failed-ingestions queue (a real queue in Azurite, named by <c>.get ingestion resources</c> as
/// <c>FailedIngestionsQueue</c>): base64 JSON with the documented fields ("Kusto.Ingest ingestion status reporting",
/// "Ingestion failures retrieved from the Azure queue": Database, Table, IngestionSourceId, IngestionSourcePath,
/// FailureStatus, OperationId, RootActivityId, FailedOn, Details, ErrorCode, OriginatesFromUpdatePolicy) and error
/// codes from "Ingestion error codes in Azure Data Explorer" (learn.microsoft.com/azure/data-explorer/error-codes:
/// BadRequest_MappingReferenceWasNotFound, Download_SourceNotFound, ... all Permanent there; General_InternalServerError Transient).</item>
/// <item><see cref="TransientFailures"/>: the next n ingestions fail transiently: a <c>Transient</c> report is posted
/// ("retry will be executed") and the service retries the message, which then ingests.</item>
/// <item>Ingestion is at least once: <see cref="DuplicateEvery"/> ingests every n-th blob twice.</item>
/// </list>
/// Rows land in <see cref="Rows"/> keyed by row id (what <c>ClickBucketsDedup</c> keeps) and are counted in
/// <see cref="RawRowsIngested"/> (what the table holds, duplicates included); with an <see cref="Engine"/> they also
/// land in its table, so the app's queries see them. Queued rows are invisible until <see cref="DrainAsync"/> ingests
/// them, as in ADX, where a queued blob is queryable only after its batch is sealed (the table's ingestion batching
/// policy) and ingested ("Ingestion batching policy", https://learn.microsoft.com/azure/data-explorer/kusto/management/batching-policy).
/// </summary>
public sealed class LoopbackIngestService : IAsyncDisposable
{
    public const int MaxQueueMessageBytes = 64 * 1024;
    public const string IdentityToken = "kusto-identity-token-for-tests";

    private readonly WebApplication _app;
    private readonly QueueClient _queue;
    private readonly QueueClient _failed;
    private readonly BlobContainerClient _container;
    private readonly string _database;
    private readonly string _table;
    private readonly string _mapping;
    private int _ingested;

    private LoopbackIngestService(WebApplication app, QueueClient queue, QueueClient failed, BlobContainerClient container, string database, string table, string mapping)
    {
        _app = app;
        _queue = queue;
        _failed = failed;
        _container = container;
        _database = database;
        _table = table;
        _mapping = mapping;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Rows by row id (the dedup view).</summary>
    public ConcurrentDictionary<string, JsonElement> Rows { get; } = new(StringComparer.Ordinal);

    public long RawRowsIngested => Interlocked.Read(ref _rawRows);

    private long _rawRows;

    public ConcurrentQueue<string> Failures { get; } = new();

    public ConcurrentQueue<JsonObject> Messages { get; } = new();

    public int ManagementRequests => _managementRequests;

    private int _managementRequests;

    public int DuplicateEvery { get; set; }

    /// <summary>The loopback engine whose table the drained rows land in too (through its declared mapping), if any.</summary>
    public LoopbackAdxEngine? Engine { get; set; }

    /// <summary>How many of the next ingestions fail transiently (reported Transient, then retried by the service).</summary>
    public int TransientFailures { get; set; }

    /// <summary>The failed-ingestions queue (Azurite), for tests that look at what was reported.</summary>
    public QueueClient FailedQueue => _failed;

    public static async Task<LoopbackIngestService> StartAsync(Azurite azurite, string database = "clicks", string table = "ClickBuckets", string mapping = "ClickBucketsJson")
    {
        string name = "ingest" + Guid.NewGuid().ToString("N")[..12];
        var queue = azurite.Queues(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }).GetQueueClient(name + "-secured");
        await queue.CreateAsync();
        var failed = azurite.Queues(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }).GetQueueClient(name + "-failed");
        await failed.CreateAsync();
        var container = azurite.Blobs().GetBlobContainerClient(name + "-temp");
        await container.CreateAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var service = new LoopbackIngestService(app, queue, failed, container, database, table, mapping);
        app.Run(service.HandleAsync);
        await app.StartAsync();
        service.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return service;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _managementRequests);
        context.Response.ContentType = "application/json; charset=utf-8";
        if (context.Request.Headers.Authorization != "Bearer " + FakeCredential.Token)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("""{"error":{"code":"Unauthorized","message":"missing bearer token","@permanent":true}}""");
            return;
        }
        if (context.Request.Path != "/v1/rest/mgmt")
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("""{"error":{"code":"NotFound","message":"The Data Management endpoint serves /v1/rest/mgmt only.","@permanent":true}}""");
            return;
        }
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        string csl = body.RootElement.GetProperty("csl").GetString()!.Trim();
        var expiry = DateTimeOffset.UtcNow.AddHours(2);
        string answer = csl switch
        {
            ".get ingestion resources" => V1(["ResourceTypeName", "StorageRoot"],
                ["SecuredReadyForAggregationQueue", _queue.GenerateSasUri(QueueSasPermissions.Add, expiry).AbsoluteUri],
                ["TempStorage", _container.GenerateSasUri(BlobContainerSasPermissions.Write | BlobContainerSasPermissions.Create, expiry).AbsoluteUri],
                ["FailedIngestionsQueue", _failed.GenerateSasUri(QueueSasPermissions.Read | QueueSasPermissions.Process, expiry).AbsoluteUri],
                ["SuccessfulIngestionsQueue", "http://127.0.0.1:9/unused-successful"]),
            ".get kusto identity token" => V1(["AuthorizationContext"], [IdentityToken]),
            _ => "",
        };
        if (answer.Length == 0)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("""{"error":{"code":"BadRequest_SyntaxError","message":"Unknown command on the Data Management endpoint.","@permanent":true}}""");
            return;
        }
        await context.Response.WriteAsync(answer);
    }

    private static string V1(string[] columns, params string[][] rows) =>
        new JsonObject
        {
            ["Tables"] = new JsonArray(new JsonObject
            {
                ["TableName"] = "Table_0",
                ["Columns"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject { ["ColumnName"] = c, ["DataType"] = "String", ["ColumnType"] = "string" }).ToArray()),
                [nameof(Rows)] = new JsonArray(rows.Select(r => (JsonNode)new JsonArray(r.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray())).ToArray()),
            }),
        }.ToJsonString();

    /// <summary>Ingests every message in the queue (what the service's ingestion does after its batching), until the queue reads empty.</summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken = default)
    {
        int handled = 0;
        while (true)
        {
            var messages = (await _queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1), cancellationToken)).Value;
            if (messages.Length == 0)
            {
                return handled;
            }
            foreach (var message in messages)
            {
                await IngestAsync(message.Body, cancellationToken);
                await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                handled++;
            }
        }
    }

    private async Task IngestAsync(BinaryData decoded, CancellationToken cancellationToken)
    {
        // The queue holds the base64 text; the SDK decoded it (QueueMessageEncoding.Base64). Its limit applies to the encoded text.
        int encodedBytes = (decoded.ToMemory().Length + 2) / 3 * 4;
        if (encodedBytes > MaxQueueMessageBytes)
        {
            Failures.Enqueue($"message of {encodedBytes} bytes is over the queue's 64 KB limit");
            return; // not readable: the service cannot know whom to report it to
        }
        JsonObject message;
        try
        {
            message = JsonNode.Parse(decoded.ToString())!.AsObject();
        }
        catch (JsonException ex)
        {
            Failures.Enqueue("message is not JSON: " + ex.Message);
            return;
        }
        Messages.Enqueue(message);
        var (code, problem) = Check(message);
        if (problem is not null)
        {
            await FailAsync(message, code!, problem, cancellationToken);
            return;
        }
        var blobUri = new Uri((string)message["BlobPath"]!);
        string blobName = Uri.UnescapeDataString(blobUri.AbsolutePath.Split('/').Last());
        var blob = _container.GetBlobClient(blobName);
        if (!await blob.ExistsAsync(cancellationToken))
        {
            await FailAsync(message, "Download_SourceNotFound", "BlobPath does not exist: " + blobUri.GetLeftPart(UriPartial.Path), cancellationToken);
            return;
        }
        byte[] data = (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
        if ((long?)message["RawDataSize"] is long raw && raw != data.Length)
        {
            await FailAsync(message, "BadRequest_InvalidBlob", $"RawDataSize {raw} is not the blob's size {data.Length}", cancellationToken);
            return;
        }
        if (TransientFailures > 0)
        {
            TransientFailures--;
            await ReportAsync(message, "Transient", "General_InternalServerError", "transient failure (simulated); the service retries", cancellationToken);
            await _queue.SendMessageAsync(decoded, cancellationToken: cancellationToken); // the service's own retry
            return;
        }
        int times = DuplicateEvery > 0 && Interlocked.Increment(ref _ingested) % DuplicateEvery == 0 ? 2 : 1;
        for (int t = 0; t < times; t++)
        {
            Engine?.IngestRows(_table, _mapping, System.Text.Encoding.UTF8.GetString(data));
            foreach (string line in System.Text.Encoding.UTF8.GetString(data).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var row = JsonDocument.Parse(line).RootElement.Clone();
                Rows[row.GetProperty("rowId").GetString()!] = row;
                Interlocked.Increment(ref _rawRows);
            }
        }
        if (message["RetainBlobOnSuccess"]?.GetValue<bool>() != true)
        {
            await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
    }

    private async Task FailAsync(JsonObject message, string errorCode, string details, CancellationToken cancellationToken)
    {
        Failures.Enqueue(details);
        await ReportAsync(message, "Permanent", errorCode, details, cancellationToken);
    }

    /// <summary>A failure report on the failed-ingestions queue, as the service posts it (ReportLevel 0 = failures only, ReportMethod 0 = queue).</summary>
    private async Task ReportAsync(JsonObject message, string status, string errorCode, string details, CancellationToken cancellationToken)
    {
        if ((int?)message["ReportLevel"] is not 0 and not 2 || (int?)message["ReportMethod"] is not 0 and not 2)
        {
            return; // the client asked for no failure reports, or for the status table only
        }
        var report = new JsonObject
        {
            ["OperationId"] = Guid.NewGuid().ToString(),
            ["Database"] = (string?)message["DatabaseName"],
            ["Table"] = (string?)message["TableName"],
            ["FailedOn"] = DateTime.UtcNow.ToString("o", System.Globalization.CultureInfo.InvariantCulture),
            ["IngestionSourceId"] = (string?)message["Id"],
            ["IngestionSourcePath"] = (string?)message["BlobPath"],
            ["Details"] = details,
            ["ErrorCode"] = errorCode,
            ["FailureStatus"] = status,
            ["RootActivityId"] = Guid.NewGuid().ToString(),
            ["OriginatesFromUpdatePolicy"] = false,
        };
        await _failed.SendMessageAsync(report.ToJsonString(), cancellationToken);
    }

    private (string? Code, string? Problem) Check(JsonObject message)
    {
        if (!Guid.TryParse((string?)message["Id"], out _))
        {
            return ("BadRequest_InvalidBlob", "Id is not a GUID");
        }
        if ((string?)message["DatabaseName"] != _database)
        {
            return ("BadRequest_DatabaseNotExist", $"target {(string?)message["DatabaseName"]}.{(string?)message["TableName"]} is not {_database}.{_table}");
        }
        if ((string?)message["TableName"] != _table)
        {
            return ("BadRequest_TableNotExist", $"target {(string?)message["DatabaseName"]}.{(string?)message["TableName"]} is not {_database}.{_table}");
        }
        if (message["BlobPath"] is null || !Uri.TryCreate((string?)message["BlobPath"], UriKind.Absolute, out var path) || !path.Query.Contains("sig=", StringComparison.Ordinal))
        {
            return ("BadRequest_EmptyBlobUri", "BlobPath is not a URI with a SAS");
        }
        if (message["AdditionalProperties"] is not JsonObject additional)
        {
            return ("BadRequest_MissingMappingtFailure", "no AdditionalProperties"); // the code as the error-code page spells it
        }
        if ((string?)additional["authorizationContext"] != IdentityToken)
        {
            return ("BadRequest_InvalidKustoIdentityToken", "AdditionalProperties.authorizationContext is not the identity token");
        }
        if ((string?)additional["format"] is not ("multijson" or "json"))
        {
            return ("BadRequest_FormatNotSupported", "format is not multijson: " + (string?)additional["format"]);
        }
        if ((string?)additional["ingestionMappingReference"] != _mapping)
        {
            return ("BadRequest_MappingReferenceWasNotFound", "mapping is not " + _mapping + ": " + (string?)additional["ingestionMappingReference"]);
        }
        return (null, null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _queue.DeleteIfExistsAsync();
        await _failed.DeleteIfExistsAsync();
        await _container.DeleteIfExistsAsync();
    }
}
