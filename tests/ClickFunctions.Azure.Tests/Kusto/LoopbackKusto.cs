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
/// </summary>
public sealed class LoopbackKusto : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Expectation> _expected = new();

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

    public KustoClient Client(string database = "clicks") => new(
        new HttpClient(),
        Credential,
        Options.Create(new KustoOptions { ClusterUri = BaseAddress, Database = database }),
        NullLogger<KustoClient>.Instance);

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var recorded = new RecordedRequest(
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            await reader.ReadToEndAsync(context.RequestAborted));
        Requests.Enqueue(recorded);
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
        await context.Response.WriteAsync(next.ResponseBody, context.RequestAborted);
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
