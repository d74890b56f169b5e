using System.Collections.Concurrent;
using Azure.Core;
using ClickFunctions.Azure.Kusto;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Azure.Tests.Kusto;

public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A loopback ADX stand-in (Kestrel on 127.0.0.1, a free port): each request is checked against the next expected
/// one (method, path, headers, body), and answered with its canned response, usually a recorded real one. A request
/// that does not match gets 400 and the mismatch is kept, so the test fails with the reason.
/// <para>It enforces the service's limits, whatever the canned answer:</para>
/// <list type="bullet">
/// <item>Result truncation ("Query limits", https://learn.microsoft.com/kusto/concepts/query-limits): at most 500,000
/// records and 64 MB (67,108,864 bytes) of result per query; past either, the answer is the records up to the limit
/// followed by a partial query failure, in the shape of the recorded one (python-query_partial_results_defer_is_false.json:
/// OneApiErrors in the table and in DataSetCompletion, code LimitsExceeded), with the documented message
/// "Query result set has exceeded the internal record count limit 500000 (E_QUERY_RESULT_SET_TOO_LARGE)." or
/// "... internal data size limit 67108864 ...".</item>
/// <item>Request size ("Configure streaming ingestion", https://learn.microsoft.com/azure/data-explorer/ingest-data-streaming):
/// a streaming ingestion request carries at most 4 MB of data; a larger body is refused (413, permanent).</item>
/// <item>Throttling ("Request throttling"): <see cref="Throttle"/> answers the next requests 429 with a Retry-After header.</item>
/// </list>
/// </summary>
public sealed class LoopbackKusto : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Expectation> _expected = new();
    private readonly ConcurrentQueue<TimeSpan> _throttles = new();

    public const int MaxResultRecords = 500_000;
    public const long MaxResultBytes = 64L * 1024 * 1024;
    public const int MaxStreamingIngestBytes = 4 * 1024 * 1024;

    /// <summary>When each request arrived, on the server's own clock.</summary>
    public ConcurrentQueue<DateTimeOffset> Arrivals { get; } = new();

    /// <summary>The next <paramref name="times"/> requests are answered 429 with <c>Retry-After</c> of <paramref name="retryAfter"/> (whole seconds).</summary>
    public void Throttle(int times, TimeSpan retryAfter)
    {
        for (int i = 0; i < times; i++)
        {
            _throttles.Enqueue(retryAfter);
        }
    }

    /// <summary>
    /// When set, every streaming ingestion request within the limits is answered 200 after this sees it, instead of
    /// being matched against the expectations (the rehearsal: streaming or queued is the client's choice at run time).
    /// </summary>
    public Action<RecordedRequest>? IngestSink { get; set; }

    /// <summary>
    /// When set, a v2 query it answers (non-null) gets that v2 body, with the result truncation applied, instead of
    /// being matched against the expectations; the rows each answer actually carried are in <see cref="ReturnedRows"/>.
    /// </summary>
    public Func<RecordedRequest, string?>? QueryAnswer { get; set; }

    /// <summary>
    /// The answer to ReconciledWindows.kql when <see cref="QueryAnswer"/> gives none: by default a database whose
    /// reconciler confirmed no window yet, so scripted tests of the bucket queries need not script it (the query API
    /// sends it alongside AdClicks.kql, in either order). Null: scripted like any other request.
    /// </summary>
    public string? ReconciledWindowsAnswer { get; set; } = V2Responses.WithPrimaryResult([("WindowFrom", "datetime"), ("WindowTo", "datetime")]);

    private static bool IsReconciledWindowsQuery(RecordedRequest request)
    {
        using var body = System.Text.Json.JsonDocument.Parse(request.Body);
        return body.RootElement.TryGetProperty("csl", out var csl) && csl.GetString() == ClickFunctions.Azure.Kusto.KustoQueries.Load("ReconciledWindows");
    }

    /// <summary>PrimaryResult rows of each answer to a v2 query, as sent (after truncation).</summary>
    public ConcurrentQueue<int> ReturnedRows { get; } = new();

    public sealed record Expectation(string Method, string PathAndQuery, Func<RecordedRequest, string?> Check, int Status, string ResponseBody);

    private LoopbackKusto(WebApplication app) => _app = app;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public ConcurrentQueue<string> Mismatches { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public FakeCredential Credential { get; } = new();

    public static async Task<LoopbackKusto> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new LoopbackKusto(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return server;
    }

    public void Expect(string method, string pathAndQuery, int status, string responseBody, Func<RecordedRequest, string?>? check = null) =>
        _expected.Enqueue(new Expectation(method, pathAndQuery, check ?? (_ => null), status, responseBody));

    /// <summary>A client as the app builds it (retrying transient answers), its waits on <paramref name="time"/>.</summary>
    public KustoClient Client(string database = "clicks", TimeProvider? time = null, Action<KustoOptions>? configure = null, ILogger<KustoClient>? logger = null)
    {
        // Streaming unless a test says otherwise: most tests script the engine's answers; the queued path has its own (KustoQueuedIngestionTests).
        var options = new KustoOptions { ClusterUri = BaseAddress, Database = database, InitialBackoff = TimeSpan.FromMilliseconds(10), IngestionMode = KustoIngestionMode.Streaming };
        configure?.Invoke(options);
        return new KustoClient(
            new HttpClient(KustoClient.CreateResilienceHandler(options, time ?? TimeProvider.System, new SocketsHttpHandler(), logger)),
            Credential,
            Options.Create(options),
            logger ?? NullLogger<KustoClient>.Instance,
            time);
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var recorded = new RecordedRequest(
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            await reader.ReadToEndAsync(context.RequestAborted));
        Requests.Enqueue(recorded);
        Arrivals.Enqueue(DateTimeOffset.UtcNow);
        if (_throttles.TryDequeue(out var retryAfter))
        {
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync("""{"error":{"code":"Too many requests","message":"The request was denied due to throttling.","@type":"Kusto.DataNode.Exceptions.ControlCommandThrottledException","@permanent":false}}""", context.RequestAborted);
            return;
        }
        if (recorded.PathAndQuery.StartsWith("/v1/rest/ingest/", StringComparison.Ordinal) && System.Text.Encoding.UTF8.GetByteCount(recorded.Body) > MaxStreamingIngestBytes)
        {
            context.Response.StatusCode = 413;
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync("""{"error":{"code":"BadRequest_StreamingIngestionRequestTooLarge","message":"Streaming ingestion request is over the 4 MB limit.","@permanent":true}}""", context.RequestAborted);
            return;
        }
        if (IngestSink is { } sink && recorded.PathAndQuery.StartsWith("/v1/rest/ingest/", StringComparison.Ordinal))
        {
            string? failed = CommonChecks(recorded);
            if (failed is null)
            {
                sink(recorded);
                context.Response.ContentType = "application/json; charset=utf-8";
                await context.Response.WriteAsync("""{"Tables":[]}""", context.RequestAborted);
                return;
            }
            Mismatches.Enqueue(failed);
            context.Response.StatusCode = 400;
            return;
        }
        if (QueryAnswer is { } answer && recorded.PathAndQuery == "/v2/rest/query" && answer(recorded) is { } v2)
        {
            string? failed = CommonChecks(recorded);
            if (failed is not null)
            {
                Mismatches.Enqueue(failed);
                context.Response.StatusCode = 400;
                return;
            }
            string sent = Truncate(v2);
            ReturnedRows.Enqueue(PrimaryRows(sent));
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(sent, context.RequestAborted);
            return;
        }
        if (ReconciledWindowsAnswer is { } windows && recorded.PathAndQuery == "/v2/rest/query" && IsReconciledWindowsQuery(recorded))
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(windows, context.RequestAborted);
            return;
        }
        string? problem = null;
        if (!_expected.TryDequeue(out var next))
        {
            problem = $"unexpected request {recorded.Method} {recorded.PathAndQuery}";
        }
        else if (next.Method != recorded.Method || next.PathAndQuery != recorded.PathAndQuery)
        {
            problem = $"expected {next.Method} {next.PathAndQuery}, got {recorded.Method} {recorded.PathAndQuery}";
        }
        else
        {
            problem = CommonChecks(recorded) ?? next.Check(recorded);
        }
        if (problem is not null)
        {
            Mismatches.Enqueue(problem);
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("{\"error\":{\"code\":\"TestMismatch\",\"message\":\"" + problem.Replace("\"", "'", StringComparison.Ordinal) + "\"}}", context.RequestAborted);
            return;
        }
        context.Response.StatusCode = next!.Status;
        context.Response.ContentType = "application/json; charset=utf-8";
        string body = next.Status == 200 && recorded.PathAndQuery == "/v2/rest/query" ? Truncate(next.ResponseBody) : next.ResponseBody;
        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>The service's result truncation applied to a v2 answer: records past either limit become a partial failure.</summary>
    public static string Truncate(string v2)
    {
        if (WithinLimits(v2))
        {
            return v2; // the common case, checked without building a node tree (design-scale answers are 200,000 rows)
        }
        var frames = System.Text.Json.Nodes.JsonNode.Parse(v2)!.AsArray();
        var primary = frames.FirstOrDefault(f => (string?)f!["TableKind"] == "PrimaryResult");
        if (primary?["Rows"] is not System.Text.Json.Nodes.JsonArray rows)
        {
            return v2;
        }
        long bytes = 0;
        int kept = 0;
        string? message = null;
        foreach (var row in rows)
        {
            if (kept == MaxResultRecords)
            {
                message = $"Query result set has exceeded the internal record count limit {MaxResultRecords} (E_QUERY_RESULT_SET_TOO_LARGE).";
                break;
            }
            bytes += System.Text.Encoding.UTF8.GetByteCount(row!.ToJsonString());
            if (bytes > MaxResultBytes)
            {
                message = $"Query result set has exceeded the internal data size limit {MaxResultBytes} (E_QUERY_RESULT_SET_TOO_LARGE).";
                break;
            }
            kept++;
        }
        if (message is null)
        {
            return v2;
        }
        // The recorded partial failure's error object, with the documented truncation message.
        var recorded = System.Text.Json.Nodes.JsonNode.Parse(KustoClientConformanceTests.Recorded("python-query_partial_results_defer_is_false.json"))!.AsArray();
        var completion = recorded.Single(f => (string?)f!["FrameType"] == "DataSetCompletion")!;
        var error = completion["OneApiErrors"]!.DeepClone().AsArray();
        error[0]!["error"]!["@message"] = "The Kusto DataEngine has failed to execute a query: '" + message + "'";
        while (rows.Count > kept)
        {
            rows.RemoveAt(rows.Count - 1);
        }
        rows.Add(new System.Text.Json.Nodes.JsonObject { ["OneApiErrors"] = error.DeepClone() });
        var ours = frames.Single(f => (string?)f!["FrameType"] == "DataSetCompletion")!;
        ours["HasErrors"] = true;
        ours["OneApiErrors"] = error;
        return frames.ToJsonString();
    }

    /// <summary>Data rows of the PrimaryResult table of a v2 answer (an error row at the end does not count).</summary>
    /// <summary>
    /// Whether the PrimaryResult rows fit both limits, counting each row's JSON text as <see cref="Truncate"/> does
    /// (UTF-8 bytes of the row as written; the answers here are compact JSON).
    /// </summary>
    private static bool WithinLimits(string v2)
    {
        using var document = System.Text.Json.JsonDocument.Parse(v2);
        foreach (var frame in document.RootElement.EnumerateArray())
        {
            if (frame.TryGetProperty("TableKind", out var kind) && kind.GetString() == "PrimaryResult" && frame.TryGetProperty("Rows", out var rows))
            {
                long bytes = 0;
                int count = 0;
                foreach (var row in rows.EnumerateArray())
                {
                    if (++count > MaxResultRecords)
                    {
                        return false;
                    }
                    bytes += System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(row).Length;
                    if (bytes > MaxResultBytes)
                    {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    public static int PrimaryRows(string v2)
    {
        using var document = System.Text.Json.JsonDocument.Parse(v2);
        foreach (var frame in document.RootElement.EnumerateArray())
        {
            if (frame.TryGetProperty("TableKind", out var kind) && kind.GetString() == "PrimaryResult")
            {
                return frame.GetProperty("Rows").EnumerateArray().Count(r => r.ValueKind == System.Text.Json.JsonValueKind.Array);
            }
        }
        return 0;
    }

    /// <summary>What every ADX request must carry.</summary>
    private static string? CommonChecks(RecordedRequest request)
    {
        if (!request.Headers.TryGetValue("Authorization", out var auth) || auth != "Bearer " + FakeCredential.Token)
        {
            return "missing or wrong bearer token";
        }
        if (!request.Headers.TryGetValue("x-ms-client-request-id", out var id) || !System.Text.RegularExpressions.Regex.IsMatch(id, @"^ClickFunctions\.(Query|Mgmt|Ingest);[0-9a-f-]{36}$"))
        {
            return "missing or malformed x-ms-client-request-id: " + id;
        }
        if (!request.Headers.TryGetValue("x-ms-app", out var app) || app != "ClickFunctions")
        {
            return "missing x-ms-app";
        }
        if (!request.Headers.TryGetValue("Content-Type", out var type) || !type.StartsWith("application/json", StringComparison.Ordinal))
        {
            return "content type is not JSON: " + type;
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Stands in for Entra ID (not reachable here): hands out a fixed token and records the scopes asked for.</summary>
public sealed class FakeCredential : TokenCredential
{
    public const string Token = "test-token";

    public ConcurrentQueue<string> Scopes { get; } = new();

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        foreach (string scope in requestContext.Scopes)
        {
            Scopes.Enqueue(scope);
        }
        return new AccessToken(Token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}
