using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ClickFunctions.Hosting.Http;

/// <summary>Where a request carries an API key: <c>X-Api-Key: k</c> or <c>Authorization: Bearer k</c> (RFC 6750 §2.1).</summary>
public static class PresentedKey
{
    public const int MaxLength = 512;

    /// <summary>The one key the request presents, or null (none, several, or too long).</summary>
    public static string? From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers[ApiKeyAdvertiserIdentity.HeaderName];
        string? key = null;
        if (header.Count == 1 && !string.IsNullOrEmpty(header[0]))
        {
            key = header[0];
        }
        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            string bearer = value["Bearer ".Length..].Trim();
            if (bearer.Length > 0)
            {
                if (key is not null && !string.Equals(key, bearer, StringComparison.Ordinal))
                {
                    return null;
                }
                key = bearer;
            }
        }
        return key is { Length: > 0 and <= MaxLength } ? key : null;
    }
}

/// <summary>Section <c>RateLimits</c>: per-key token buckets for the query API, and the throttle on failed authentications.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Requests per second one key may sustain.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int PerKeyPerSecond { get; set; } = 20;

    /// <summary>Requests one key may send at once after being idle (the bucket size).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int PerKeyBurst { get; set; } = 100;

    /// <summary>Failed authentications one client address may make at once before it is answered 429.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int FailedAuthBurst { get; set; } = 10;

    /// <summary>Failed authentications per minute one client address regains.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int FailedAuthPerMinute { get; set; } = 10;
}

/// <summary>
/// The rate limits of the query API, the same in both hosts: token buckets of System.Threading.RateLimiting (the
/// limiters ASP.NET Core's rate-limiting middleware runs), partitioned per presented key, and per client address for
/// failed authentications. Kept in the shared filter rather than the middleware because the Functions worker has no
/// endpoint routing for the middleware's policies.
/// </summary>
public sealed class QueryRateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perKey;
    private readonly PartitionedRateLimiter<string> _failures;
    private readonly RateLimitOptions _options;

    public QueryRateLimits(IOptions<RateLimitOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _perKey = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = _options.PerKeyBurst,
            TokensPerPeriod = _options.PerKeyPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        _failures = PartitionedRateLimiter.Create<string, string>(ip => RateLimitPartition.GetTokenBucketLimiter(ip, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = _options.FailedAuthBurst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(60.0 / _options.FailedAuthPerMinute),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Seconds until the client at <paramref name="client"/> may try to authenticate again, or null if it may now.</summary>
    public int? FailuresExhausted(string client) =>
        _failures.GetStatistics(client) is { CurrentAvailablePermits: <= 0 } ? (int)Math.Ceiling(60.0 / _options.FailedAuthPerMinute) : null;

    public void RecordFailure(string client)
    {
        using var _ = _failures.AttemptAcquire(client);
    }

    /// <summary>Takes one request from the key's bucket; the seconds to wait when it is empty, else null.</summary>
    public int? Acquire(string partition)
    {
        using var lease = _perKey.AttemptAcquire(partition);
        if (lease.IsAcquired)
        {
            return null;
        }
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
    }

    public void Dispose()
    {
        _perKey.Dispose();
        _failures.Dispose();
    }
}

/// <summary>
/// The conventions every query endpoint follows (docs/query-api.md): unknown query parameters are a 400 naming them,
/// the known ones read from the endpoint's <see cref="AsParametersAttribute"/> type, so a parameter added there is
/// allowed without a list to keep; <c>format=csv</c> or <c>Accept: text/csv</c> answers CSV.
/// </summary>
public static class ApiConventions
{
    public const string FormatParameter = "format";

    private static readonly ConcurrentDictionary<Type, HashSet<string>> Known = new();

    public static IServiceCollection AddQueryConventions(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<QueryRateLimits>();
        return services;
    }

    /// <summary>The query parameter names a request type binds ([FromQuery] on its constructor parameters or properties), plus <c>format</c>.</summary>
    public static IReadOnlySet<string> QueryParametersOf(Type requestType) => Known.GetOrAdd(requestType, static type =>
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { FormatParameter };
        foreach (var parameter in type.GetConstructors().SelectMany(c => c.GetParameters()))
        {
            if (parameter.GetCustomAttribute<FromQueryAttribute>() is { } query)
            {
                names.Add(query.Name ?? JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!));
            }
        }
        foreach (var property in type.GetProperties())
        {
            if (property.GetCustomAttribute<FromQueryAttribute>() is { } query)
            {
                names.Add(query.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name));
            }
        }
        return names;
    });

    /// <summary>The request types of a handler's [AsParameters] parameters.</summary>
    public static IEnumerable<Type> AsParametersTypes(MethodInfo handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return handler.GetParameters().Where(p => p.GetCustomAttribute<AsParametersAttribute>() is not null).Select(p => p.ParameterType);
    }

    /// <summary>A 400 naming the query parameters the request type does not take, or null.</summary>
    public static IResult? RejectUnknown(HttpRequest request, IEnumerable<Type> requestTypes)
    {
        ArgumentNullException.ThrowIfNull(request);
        var allowed = requestTypes.SelectMany(QueryParametersOf).ToHashSet(StringComparer.OrdinalIgnoreCase);
        allowed.Add(FormatParameter);
        var unknown = request.Query.Keys.Where(k => !allowed.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count == 0)
        {
            return null;
        }
        return TypedResults.Problem(
            detail: $"Unknown query parameter{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown)}. This endpoint takes: {string.Join(", ", allowed.Order(StringComparer.Ordinal))}.",
            statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameters",
            extensions: new Dictionary<string, object?> { ["unknownParameters"] = unknown });
    }

    /// <summary>True when the caller asks for CSV: <c>format=csv</c>, or an <c>Accept</c> naming text/csv (and no format=json).</summary>
    public static bool WantsCsv(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? format = request.Query[FormatParameter];
        if (format is not null)
        {
            return string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase);
        }
        return request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A 400 when format is neither json nor csv.</summary>
    public static IResult? RejectFormat(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? format = request.Query[FormatParameter];
        return format is null || format.Equals("csv", StringComparison.OrdinalIgnoreCase) || format.Equals("json", StringComparison.OrdinalIgnoreCase)
            ? null
            : TypedResults.Problem(detail: "format must be json or csv.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameters");
    }

    /// <summary>
    /// The JSON body as CSV (RFC 4180): the rows are the objects of its first array (nested objects flattened to
    /// <c>a.b</c> columns), each prefixed with the top-level scalar fields, under a header row.
    /// </summary>
    public static IResult ToCsv(object value, JsonSerializerOptions options)
    {
        var element = JsonSerializer.SerializeToElement(value, value.GetType(), options);
        var top = new List<(string Name, string Value)>();
        JsonElement? rows = null;
        string rowsName = "";
        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Array && rows is null)
            {
                rows = property.Value;
                rowsName = property.Name;
            }
            else if (property.Value.ValueKind is not JsonValueKind.Object and not JsonValueKind.Array)
            {
                top.Add((property.Name, Scalar(property.Value)));
            }
        }
        var flattened = new List<List<(string Name, string Value)>>();
        foreach (var row in rows?.EnumerateArray() ?? default)
        {
            var cells = new List<(string, string)>();
            Flatten(row, "", cells);
            flattened.Add(cells);
        }
        if (rows is null)
        {
            // A response without a list (GET /api/me) is one row of its fields.
            flattened.Add([]);
        }
        var columns = top.Select(t => t.Name).Concat(flattened.SelectMany(r => r.Select(c => c.Name)).Distinct(StringComparer.Ordinal)).ToList();
        if (flattened.Count == 0 && rows is not null && columns.Count == top.Count)
        {
            // No rows: still a header naming the row fields of the documented contract is unknowable here; the top fields do.
            columns.Add(rowsName);
        }
        var csv = new StringBuilder();
        csv.AppendJoin(',', columns.Select(Quote)).Append("\r\n");
        foreach (var row in flattened)
        {
            var cells = top.Concat(row).ToDictionary(c => c.Name, c => c.Value, StringComparer.Ordinal);
            csv.AppendJoin(',', columns.Select(c => Quote(cells.GetValueOrDefault(c, "")))).Append("\r\n");
        }
        return TypedResults.Text(csv.ToString(), "text/csv; charset=utf-8; header=present");
    }

    private static void Flatten(JsonElement element, string prefix, List<(string, string)> cells)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                Flatten(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}", cells);
            }
        }
        else
        {
            cells.Add((prefix.Length == 0 ? "value" : prefix, element.ValueKind == JsonValueKind.Array ? element.GetRawText() : Scalar(element)));
        }
    }

    private static string Scalar(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.Null => "",
        _ => element.GetRawText(),
    };

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    /// <summary>The client address for throttling failed authentications: the host's <see cref="IClientAddress"/> (trusted proxies), else the TCP peer.</summary>
    public static string ClientOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        IPAddress? address = context.RequestServices.GetService<IClientAddress>()?.Resolve(context) ?? context.Connection.RemoteIpAddress;
        return address?.ToString() ?? "unknown";
    }

    /// <summary>The per-key partition: a hash of the presented key, or the advertiser for a principal without a key.</summary>
    public static string PartitionOf(HttpContext context, string advertiserId)
    {
        ArgumentNullException.ThrowIfNull(context);
        return PresentedKey.From(context.Request) is { } key
            ? "k:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0, 16)
            : "a:" + advertiserId;
    }

    public static IResult TooManyRequests(HttpContext context, int retryAfterSeconds, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers[HeaderNames.RetryAfter] = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
    }
}
