using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Core;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace ClickFunctions.Azure.Kusto;

/// <summary>A typed query parameter: declared in the KQL with <c>declare query_parameters</c>, sent in the request properties.</summary>
public readonly record struct KustoParameter(string Value)
{
    public static KustoParameter Text(string value) => new(value);

    public static KustoParameter Time(DateTimeOffset value) =>
        new("datetime(" + value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture) + ")");

    public static KustoParameter Number(long value) => new("long(" + value.ToString(CultureInfo.InvariantCulture) + ")");

    /// <summary>A dynamic array of hex strings (shard ids): nothing else is accepted, so the literal needs no escaping.</summary>
    public static KustoParameter HexArray(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var list = values.ToList();
        if (list.Any(v => v.Length == 0 || !v.All(char.IsAsciiHexDigitLower)))
        {
            throw new ArgumentException("Only lowercase hex strings are accepted.", nameof(values));
        }
        return new("dynamic([" + string.Join(",", list.Select(v => "\"" + v + "\"")) + "])");
    }
}

/// <summary>
/// Azure Data Explorer over its REST API (the Kusto SDK cannot be restored here): v2 queries, management commands and
/// streaming ingestion, with Entra tokens for <c>{cluster}/.default</c> and a client request id on every request.
/// Values reach KQL only as query parameters, never by string concatenation.
/// </summary>
public sealed partial class KustoClient(HttpClient http, TokenCredential credential, IOptions<KustoOptions> options, ILogger<KustoClient> logger, TimeProvider? time = null)
{
    private readonly KustoOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly StreamingBudget _budget = new(options.Value, time ?? TimeProvider.System);

    /// <summary>
    /// The HTTP handler every ADX request goes through: retries of transient answers (429, 408, 5xx, connection
    /// failures and attempt timeouts) honouring <c>Retry-After</c>, with exponential backoff and jitter otherwise,
    /// over <paramref name="inner"/> (pooled connections in production). The waits run on <paramref name="time"/>.
    /// "Request throttling" and "Streaming ingestion" in the ADX docs: a throttled request is answered 429 and may be
    /// retried after the time the service gives.
    /// </summary>
    public static DelegatingHandler CreateResilienceHandler(KustoOptions options, TimeProvider time, HttpMessageHandler inner, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (options.MaxAttempts > 1)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxAttempts - 1,
                Delay = options.InitialBackoff,
                MaxDelay = TimeSpan.FromMinutes(2),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
                OnRetry = args =>
                {
                    Log.Retrying(log, (int?)args.Outcome.Result?.StatusCode ?? 0, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.GetType().Name);
                    return default;
                },
            });
        }
        var pipeline = builder.AddTimeout(options.AttemptTimeout).Build();
#pragma warning disable EXTEXP0001 // ResilienceHandler over a pipeline built here (the package's own type)
        return new ResilienceHandler(pipeline) { InnerHandler = inner };
#pragma warning restore EXTEXP0001
    }

    public async Task<KustoTable> QueryAsync(string csl, IReadOnlyDictionary<string, KustoParameter> parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var body = new KustoRequest(_options.Database, csl, new KustoRequestProperties(
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["servertimeout"] = _options.QueryTimeout.ToString("c", CultureInfo.InvariantCulture),
                ["request_app_name"] = _options.Application,
            },
            parameters.ToDictionary(p => p.Key, p => p.Value.Value, StringComparer.Ordinal)));
        string requestId = NewRequestId("Query");
        using var request = await NewRequestAsync(_options.ClusterUri!, "v2/rest/query", requestId, body, cancellationToken).ConfigureAwait(false);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, requestId, cancellationToken).ConfigureAwait(false);
        using var document = await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        return KustoFrames.ParsePrimaryResult(document.RootElement, requestId);
    }

    public Task<KustoTable> ExecuteManagementAsync(string command, CancellationToken cancellationToken) =>
        ManagementAsync(_options.ClusterUri!, _options.Database, command, cancellationToken);

    private async Task<KustoTable> ManagementAsync(Uri service, string database, string command, CancellationToken cancellationToken)
    {
        var body = new KustoRequest(database, command, new KustoRequestProperties(
            new Dictionary<string, string>(StringComparer.Ordinal) { ["request_app_name"] = _options.Application },
            new Dictionary<string, string>(StringComparer.Ordinal)));
        string requestId = NewRequestId("Mgmt");
        using var request = await NewRequestAsync(service, "v1/rest/mgmt", requestId, body, cancellationToken).ConfigureAwait(false);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, requestId, cancellationToken).ConfigureAwait(false);
        using var document = await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        return KustoFrames.ParseV1FirstTable(document.RootElement, requestId);
    }

    /// <summary>
    /// Writes bucket rows into the bucket table (MultiJson, the table's JSON mapping) in the mode
    /// <see cref="KustoOptions.IngestionMode"/> chooses (decision 063): streaming requests of at most
    /// <see cref="KustoOptions.MaxIngestBytes"/>, or queued ingestion through the Data Management service, or (Managed,
    /// the default) streaming while the table's estimated volume is under the streaming guideline and queued above it,
    /// for payloads over the streaming limit, and when streaming still fails transiently after its retries. If a later
    /// request fails after an earlier one succeeded, or a queued blob is ingested twice, the caller's retry or the
    /// service writes the same rows with the same row ids, which the dedup view collapses (decision 043).
    /// Answers how many of the rows went queued: those are in ADX's queue, not yet queryable, when this returns (the
    /// table's batching policy seals a batch after its MaximumBatchingTimeSpan, 30 s here, and the service ingests it
    /// after that: "Ingestion batching policy", https://learn.microsoft.com/azure/data-explorer/kusto/management/batching-policy);
    /// streamed rows are queryable when it returns. The reconciler records a window as final only once its queued
    /// corrections are seen (decision 095).
    /// </summary>
    public async Task<int> IngestBucketsAsync(IReadOnlyCollection<BucketRow> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return 0;
        }
        int queued = 0;
        var chunks = Serialize(rows, _options.IngestionMode == KustoIngestionMode.Streaming ? _options.MaxIngestBytes : _options.MaxQueuedBlobBytes);
        string batchId = rows.First().BatchId;
        string partition = batchId.Split(':')[0];
        foreach (var (payload, count) in chunks)
        {
            var mode = _budget.Choose(_options.IngestionMode, partition, payload.Length);
            if (mode == KustoIngestionMode.Streaming)
            {
                await IngestAsync(payload, count, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (mode == KustoIngestionMode.Managed)
            {
                try
                {
                    await IngestAsync(payload, count, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                catch (KustoException ex) when (ex is not KustoPermanentException)
                {
                    // Streaming still failing after its retries (throttled, or the cluster's streaming capacity):
                    // the managed streaming pattern of the official clients falls back to queued ingestion.
                    Log.FallingBack(logger, count, ex.Status, ex.ClientRequestId);
                }
            }
            await IngestQueuedAsync(payload, count, batchId, cancellationToken).ConfigureAwait(false);
            queued += count;
        }
        return queued;
    }

    /// <summary>Rows as MultiJson, one line each, in chunks of at most <paramref name="maxBytes"/>.</summary>
    private static List<(byte[] Payload, int Rows)> Serialize(IEnumerable<BucketRow> rows, int maxBytes)
    {
        var chunks = new List<(byte[], int)>();
        using var payload = new MemoryStream();
        int count = 0;
        foreach (var row in rows)
        {
            byte[] line = JsonSerializer.SerializeToUtf8Bytes(row, KustoJsonContext.Default.BucketRow);
            if (payload.Length > 0 && payload.Length + line.Length + 1 > maxBytes)
            {
                chunks.Add((payload.ToArray(), count));
                payload.SetLength(0);
                count = 0;
            }
            payload.Write(line);
            payload.WriteByte((byte)'\n');
            count++;
        }
        if (count > 0)
        {
            chunks.Add((payload.ToArray(), count));
        }
        return chunks;
    }

    private Task IngestAsync(byte[] payload, int rows, CancellationToken cancellationToken) =>
        IngestStreamingAsync(_options.BucketTable, _options.BucketMapping, payload, rows, cancellationToken);

    /// <summary>
    /// One streaming ingestion request of MultiJson rows (<paramref name="payload"/>, at most
    /// <see cref="KustoOptions.MaxIngestBytes"/>) into <paramref name="table"/> through its JSON mapping: the request
    /// the bucket rows take, for the database's small tables (the reconciler's confirmed windows, decision 095).
    /// </summary>
    public async Task IngestStreamingAsync(string table, string mapping, byte[] payload, int rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        string path = string.Create(CultureInfo.InvariantCulture,
            $"v1/rest/ingest/{Uri.EscapeDataString(_options.Database)}/{Uri.EscapeDataString(table)}?streamFormat=MultiJson&mappingName={Uri.EscapeDataString(mapping)}");
        string requestId = NewRequestId("Ingest");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_options.ClusterUri!, path));
        await AddHeadersAsync(request, _options.ClusterUri!, requestId, cancellationToken).ConfigureAwait(false);
        request.Content = new ByteArrayContent(payload);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, requestId, cancellationToken).ConfigureAwait(false);
        Log.Ingested(logger, rows, requestId);
    }

    private async Task<HttpRequestMessage> NewRequestAsync(Uri service, string path, string requestId, KustoRequest body, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(service, path))
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, KustoJsonContext.Default.KustoRequest)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        await AddHeadersAsync(request, service, requestId, cancellationToken).ConfigureAwait(false);
        return request;
    }

    private async Task AddHeadersAsync(HttpRequestMessage request, Uri service, string requestId, CancellationToken cancellationToken)
    {
        string scope = service.GetLeftPart(UriPartial.Authority) + "/.default";
        var token = await credential.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Add("x-ms-client-request-id", requestId);
        request.Headers.Add("x-ms-app", _options.Application);
        request.Headers.Add("x-ms-client-version", "ClickFunctions.Rest;1");
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string requestId, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? code = null;
        bool? permanent = null;
        string message = text;
        try
        {
            using var error = JsonDocument.Parse(text);
            if (error.RootElement.ValueKind == JsonValueKind.Object && error.RootElement.TryGetProperty("error", out var e))
            {
                code = e.TryGetProperty("code", out var c) ? c.GetString() : null;
                permanent = e.TryGetProperty("@permanent", out var p) && p.ValueKind is JsonValueKind.True or JsonValueKind.False ? p.GetBoolean() : null;
                message = e.TryGetProperty("@message", out var m) ? m.GetString() ?? text
                    : e.TryGetProperty("message", out var m2) ? m2.GetString() ?? text : text;
            }
        }
        catch (JsonException)
        {
            // Not JSON (a gateway error page): keep the text.
        }
        int status = (int)response.StatusCode;
        Log.RequestFailed(logger, status, code, requestId);
        string text2 = $"ADX answered {status}: {message}";
        throw IsPermanent(status, permanent)
            ? new KustoPermanentException(text2, status, code, requestId)
            : new KustoException(text2, status, code, requestId);
    }

    /// <summary>
    /// 4xx other than 408 (timeout) and 429 (throttled) cannot succeed on retry; an error ADX itself marks
    /// <c>@permanent</c> is permanent whatever its status; 5xx are transient (already retried by the handler).
    /// </summary>
    public static bool IsPermanent(int status, bool? markedPermanent) =>
        markedPermanent == true || (status is >= 400 and < 500 && status is not 408 and not 429);

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await JsonDocument.ParseAsync(stream, default, cancellationToken).ConfigureAwait(false);
    }

    private string NewRequestId(string kind) => $"{_options.Application}.{kind};{Guid.NewGuid()}";

    internal static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "ADX request {ClientRequestId} failed with {Status} {Code}")]
        public static partial void RequestFailed(ILogger logger, int status, string? code, string clientRequestId);

        [LoggerMessage(3, LogLevel.Warning, "ADX answered {Status} ({Exception}); attempt {Attempt} failed, retrying in {Delay}")]
        public static partial void Retrying(ILogger logger, int status, int attempt, TimeSpan delay, string? exception);

        [LoggerMessage(4, LogLevel.Warning, "Streaming ingestion of {Rows} rows still failed ({Status}, {ClientRequestId}); falling back to queued ingestion")]
        public static partial void FallingBack(ILogger logger, int rows, int? status, string? clientRequestId);

        [LoggerMessage(5, LogLevel.Debug, "Queued {Rows} bucket rows ({Bytes} bytes) for ingestion as {Blob}")]
        public static partial void Queued(ILogger logger, int rows, int bytes, string blob);

        [LoggerMessage(2, LogLevel.Debug, "Ingested {Rows} bucket rows ({ClientRequestId})")]
        public static partial void Ingested(ILogger logger, int rows, string clientRequestId);
    }
}
