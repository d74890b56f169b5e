using System.Diagnostics;
using ClickFunctions.Ports;
using ClickFunctions.Queries;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Hosting.Http;

/// <summary>
/// The advertiser query API, the same contract in both hosts (docs/query-api.md). Every request is authenticated
/// first (401); an ad or advertiser the caller may not see answers exactly like one that does not exist (404);
/// bad parameters get a 400 problem saying what is wrong.
/// </summary>
public static partial class QueryEndpoints
{
    /// <summary>The group every query route lives in; its endpoint filter resolves the caller once per request.</summary>
    public const string GroupPrefix = "/api";
    public const string AdClicksPattern = "/ads/{adId}/clicks";
    public const string AdvertiserAdsPattern = "/advertisers/{advertiserId}/ads";
    public const string AdBreakdownPattern = "/ads/{adId}/breakdown";
    public const string AdvertiserBreakdownPattern = "/advertisers/{advertiserId}/breakdown";
    public const string MePattern = "/me";
    public const string AdClicksRoute = GroupPrefix + AdClicksPattern;
    public const string AdBreakdownRoute = GroupPrefix + AdBreakdownPattern;
    public const string AdvertiserBreakdownRoute = GroupPrefix + AdvertiserBreakdownPattern;
    public const string AdvertiserAdsRoute = GroupPrefix + AdvertiserAdsPattern;
    public const string MeRoute = GroupPrefix + MePattern;

    /// <summary>The one body every 404 of this API carries, whether the thing is missing or someone else's.</summary>
    public const string NotFoundDetail = "Nothing found at this address for your advertiser account.";

    public static IHostApplicationBuilder AddQueryApi(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, QueryJson.Default));
        builder.Services.AddQueryConventions();
        return builder;
    }

    public static RouteGroupBuilder MapQueryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(GroupPrefix).AddEndpointFilter(RequireAdvertiserAsync)
            .WithTags("Query")
            .WithMetadata(
                new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(ProblemDetails), ["application/problem+json"]),
                new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized),
                new ProducesResponseTypeMetadata(StatusCodes.Status404NotFound, typeof(ProblemDetails), ["application/problem+json"]),
                new ProducesResponseTypeMetadata(StatusCodes.Status429TooManyRequests, typeof(ProblemDetails), ["application/problem+json"]),
                new ProducesResponseTypeMetadata(StatusCodes.Status503ServiceUnavailable, typeof(ProblemDetails), ["application/problem+json"]));
        api.MapGet(AdClicksPattern, GetAdClicksAsync);
        api.MapGet(AdvertiserAdsPattern, ListAdsAsync);
        api.MapGet(AdBreakdownPattern, GetAdBreakdownAsync);
        api.MapGet(AdvertiserBreakdownPattern, GetAdvertiserBreakdownAsync);
        api.MapGet(MePattern, GetMeAsync);
        return api;
    }

    /// <summary>
    /// The group's endpoint filter: throttles clients with too many failed authentications (429), resolves the caller
    /// through <see cref="IAdvertiserIdentity"/> once and records it on the request (<see cref="QueryCaller"/>) for the
    /// handler (401 without valid credentials), takes one request from the key's rate limit (429), rejects query
    /// parameters the handler's [AsParameters] type does not take (400), and answers CSV when asked.
    /// </summary>
    public static async ValueTask<object?> RequireAdvertiserAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var handler = http.GetEndpoint()?.Metadata.GetMetadata<System.Reflection.MethodInfo>();
        var requestTypes = handler is null ? [] : ApiConventions.AsParametersTypes(handler);
        if (await GateAsync(http, requestTypes).ConfigureAwait(false) is { } rejected)
        {
            return rejected;
        }
        return Shape(http, await next(context).ConfigureAwait(false));
    }

    /// <summary>
    /// What the group does, for a host without endpoint filters (the Functions worker, one function per route): the
    /// same gate (throttling, the caller, rate limit, known parameters), then the handler, its result written to the response.
    /// </summary>
    public static async Task ServeAsync(HttpContext context, Type requestType, Func<Task<IResult>> handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handler);
        var result = await GateAsync(context, [requestType]).ConfigureAwait(false) ?? Shape(context, await handler().ConfigureAwait(false));
        await ((IResult)result!).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static async ValueTask<IResult?> GateAsync(HttpContext context, IEnumerable<Type> requestTypes)
    {
        var limits = context.RequestServices.GetRequiredService<QueryRateLimits>();
        string client = ApiConventions.ClientOf(context);
        if (limits.FailuresExhausted(client) is { } wait)
        {
            return ApiConventions.TooManyRequests(context, wait, "Too many failed authentications from this address; try again later.");
        }
        if (!await AuthenticateAsync(context).ConfigureAwait(false))
        {
            limits.RecordFailure(client);
            return TypedResults.Unauthorized();
        }
        string advertiserId = context.Features.Get<QueryCaller>()!.AdvertiserId;
        if (limits.Acquire(ApiConventions.PartitionOf(context, advertiserId)) is { } retryAfter)
        {
            return ApiConventions.TooManyRequests(context, retryAfter, "Rate limit of this API key exceeded; see Retry-After.");
        }
        return ApiConventions.RejectUnknown(context.Request, requestTypes) ?? ApiConventions.RejectFormat(context.Request);
    }

    /// <summary>The handler's result, as CSV when the caller asked for it and the result is a 200 with a body.</summary>
    private static object? Shape(HttpContext context, object? result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }
        if (result is IStatusCodeHttpResult { StatusCode: 200 or null } and IValueHttpResult { Value: { } value } && result is not ProblemHttpResult && ApiConventions.WantsCsv(context.Request))
        {
            var json = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            return ApiConventions.ToCsv(value, json);
        }
        return result;
    }

    /// <summary>
    /// GET /api/me: the advertiser the credentials resolve to, its name and its time zone, so a client (the dashboard)
    /// needs only the key. Name and zone come from the admin API's account when there is one; a configured zone wins.
    /// </summary>
    public static async Task<Ok<AdvertiserProfile>> GetMeAsync([AsParameters] MeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string advertiserId = request.Caller.AdvertiserId;
        var accounts = request.Context.RequestServices.GetService<Accounts.IAccountStore>();
        var account = accounts is null ? null : await accounts.FindAdvertiserAsync(advertiserId, request.CancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new AdvertiserProfile(advertiserId, account?.Name, ConfiguredZone(request.Context, advertiserId) ?? account?.TimeZone));
    }

    public static async Task<Results<Ok<AdClicks>, ProblemHttpResult>> GetAdClicksAsync([AsParameters] AdClicksRequest request)
    {
        string advertiserId = request.Caller.AdvertiserId;
        if (!QueryParameters.TryAdClicks(advertiserId, request.AdId, request.From, request.To, request.Granularity, request.Tz, await DefaultZoneAsync(request.Context, advertiserId, request.Tz, request.CancellationToken).ConfigureAwait(false), out var query, out var problem))
        {
            return BadRequest(problem);
        }
        long started = Stopwatch.GetTimestamp();
        AdClicks? clicks;
        try
        {
            clicks = await request.Queries.GetAdClicksAsync(query, request.CancellationToken).ConfigureAwait(false);
        }
        catch (RangeNotRetainedException e)
        {
            return NotRetained(e);
        }
        catch (QueryNotAvailableException e)
        {
            return NotAvailable(e.Message);
        }
        catch (QueryResourcesExhaustedException e)
        {
            return Exhausted(request.Context, e);
        }
        Log.AdQueried(request.Loggers.CreateLogger(typeof(QueryEndpoints)), advertiserId, request.AdId, query.Granularity.Code(), clicks?.Buckets.Count ?? -1, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return clicks is null ? NotFound() : TypedResults.Ok(clicks);
    }

    public static async Task<Results<Ok<AdvertiserAds>, ProblemHttpResult>> ListAdsAsync([AsParameters] AdvertiserAdsRequest request)
    {
        string caller = request.Caller.AdvertiserId;
        // Another advertiser's listing is answered as if that advertiser did not exist, before looking at anything else.
        if (!string.Equals(caller, request.AdvertiserId, StringComparison.Ordinal))
        {
            return NotFound();
        }
        if (!QueryParameters.TryAdvertiserAds(caller, request.From, request.To, out var query, out var problem))
        {
            return BadRequest(problem);
        }
        if (!AdsPage.TryParse(request.Limit, request.Cursor, out var page, out problem))
        {
            return BadRequest(problem);
        }
        try
        {
            return TypedResults.Ok(page.Apply(await request.Queries.ListAdsAsync(query, request.CancellationToken).ConfigureAwait(false)));
        }
        catch (RangeNotRetainedException e)
        {
            return NotRetained(e);
        }
        catch (QueryResourcesExhaustedException e)
        {
            return Exhausted(request.Context, e);
        }
    }

    public static async Task<Results<Ok<Breakdown>, ProblemHttpResult>> GetAdBreakdownAsync([AsParameters] AdBreakdownRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string advertiserId = request.Caller.AdvertiserId;
        if (!QueryParameters.TryBreakdown(advertiserId, request.AdId, request.By, request.From, request.To, request.Tz, request.Limit, await DefaultZoneAsync(request.Context, advertiserId, request.Tz, request.CancellationToken).ConfigureAwait(false), out var query, out var problem))
        {
            return BadRequest(problem);
        }
        return await BreakdownAsync(request.Context, request.Queries, query, request.CancellationToken).ConfigureAwait(false);
    }

    public static async Task<Results<Ok<Breakdown>, ProblemHttpResult>> GetAdvertiserBreakdownAsync([AsParameters] AdvertiserBreakdownRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string caller = request.Caller.AdvertiserId;
        if (!string.Equals(caller, request.AdvertiserId, StringComparison.Ordinal))
        {
            return NotFound();
        }
        if (!QueryParameters.TryBreakdown(caller, null, request.By, request.From, request.To, request.Tz, request.Limit, await DefaultZoneAsync(request.Context, caller, request.Tz, request.CancellationToken).ConfigureAwait(false), out var query, out var problem))
        {
            return BadRequest(problem);
        }
        return await BreakdownAsync(request.Context, request.Queries, query, request.CancellationToken).ConfigureAwait(false);
    }

    private static async Task<Results<Ok<Breakdown>, ProblemHttpResult>> BreakdownAsync(HttpContext context, IClickQueries queries, BreakdownQuery query, CancellationToken cancellationToken)
    {
        try
        {
            var breakdown = await queries.GetBreakdownAsync(query, cancellationToken).ConfigureAwait(false);
            return breakdown is null ? NotFound() : TypedResults.Ok(breakdown);
        }
        catch (RangeNotRetainedException e)
        {
            return NotRetained(e);
        }
        catch (QueryNotAvailableException e)
        {
            return NotAvailable(e.Message);
        }
        catch (QueryResourcesExhaustedException e)
        {
            return Exhausted(context, e);
        }
    }

    /// <summary>The store could not answer within its configured resources: a 503 naming the setting, logged as a warning.</summary>
    private static ProblemHttpResult Exhausted(HttpContext context, QueryResourcesExhaustedException e)
    {
        Log.StoreExhausted(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(QueryEndpoints)), e.Message);
        return TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store out of memory");
    }

    private static ProblemHttpResult NotAvailable(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status501NotImplemented, title: "Not available");

    /// <summary>
    /// The zone of a query that names none: the advertiser's configured zone (<c>Advertisers:&lt;id&gt;:TimeZone</c>),
    /// else the one the admin API stored with its account, else null (UTC). The account is read only when the
    /// request has no <c>tz</c>, the advertiser is not configured, and an account store is registered.
    /// </summary>
    private static async ValueTask<string?> DefaultZoneAsync(HttpContext context, string advertiserId, string? tz, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(tz))
        {
            return null;
        }
        // A configured advertiser has no account (the admin API refuses its id): its configuration is the answer.
        var options = context.RequestServices.GetService<Microsoft.Extensions.Options.IOptions<Options.AdvertisersOptions>>()?.Value;
        if (options is not null && options.Advertisers.ContainsKey(advertiserId))
        {
            return ConfiguredZone(context, advertiserId);
        }
        var accounts = context.RequestServices.GetService<Accounts.IAccountStore>();
        var account = accounts is null ? null : await accounts.FindAdvertiserAsync(advertiserId, cancellationToken).ConfigureAwait(false);
        return string.IsNullOrEmpty(account?.TimeZone) ? null : account.TimeZone;
    }

    /// <summary>The advertiser's configured time zone (<c>Advertisers:&lt;id&gt;:TimeZone</c>), or null (UTC).</summary>
    private static string? ConfiguredZone(HttpContext context, string advertiserId)
    {
        var options = context.RequestServices.GetService<Microsoft.Extensions.Options.IOptions<Options.AdvertisersOptions>>()?.Value;
        string? zone = options is not null && options.Advertisers.TryGetValue(advertiserId, out var settings) ? settings.TimeZone : null;
        return string.IsNullOrEmpty(zone) ? null : zone;
    }

    /// <summary>Resolves the caller and records it on the request; false (logged) when the request carries no valid credentials.</summary>
    private static async ValueTask<bool> AuthenticateAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var services = context.RequestServices;
        string? advertiserId = await services.GetRequiredService<IAdvertiserIdentity>().ResolveAsync(context, context.RequestAborted).ConfigureAwait(false);
        if (advertiserId is null)
        {
            Log.Unauthenticated(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(QueryEndpoints)), context.Request.Path);
            return false;
        }
        context.Features.Set(new QueryCaller(advertiserId));
        return true;
    }

    /// <summary>The range reaches before what the store keeps: a 400 naming the first instant kept, never a silent zero.</summary>
    private static ProblemHttpResult NotRetained(RangeNotRetainedException e) =>
        TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status400BadRequest, title: "Range no longer retained");

    private static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameters");

    private static ProblemHttpResult NotFound() =>
        TypedResults.Problem(detail: NotFoundDetail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Query request to {Path} without a valid API key or principal.")]
        public static partial void Unauthenticated(ILogger logger, PathString path);

        [LoggerMessage(2, LogLevel.Debug, "Advertiser {AdvertiserId} queried ad {AdId} by {Granularity}: {Buckets} buckets in {ElapsedMs} ms.")]
        public static partial void AdQueried(ILogger logger, string advertiserId, string adId, string granularity, int buckets, double elapsedMs);

        [LoggerMessage(3, LogLevel.Warning, "{Detail}")]
        public static partial void StoreExhausted(ILogger logger, string detail);
    }
}
