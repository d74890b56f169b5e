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
    public const string AdClicksRoute = "/api/ads/{adId}/clicks";
    public const string AdvertiserAdsRoute = "/api/advertisers/{advertiserId}/ads";

    /// <summary>The one body every 404 of this API carries, whether the thing is missing or someone else's.</summary>
    public const string NotFoundDetail = "Nothing found at this address for your advertiser account.";

    public static IHostApplicationBuilder AddQueryApi(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, QueryJson.Default));
        return builder;
    }

    public static IEndpointRouteBuilder MapQueryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(AdClicksRoute, GetAdClicksAsync);
        endpoints.MapGet(AdvertiserAdsRoute, ListAdsAsync);
        return endpoints;
    }

    public static async Task<Results<Ok<AdClicks>, UnauthorizedHttpResult, ProblemHttpResult>> GetAdClicksAsync(
        string adId,
        [FromQuery] string? from,
        [FromQuery] string? to,
        [FromQuery] string? granularity,
        HttpContext context,
        IAdvertiserIdentity identity,
        IClickQueries queries,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var (advertiserId, logger) = await AuthenticateAsync(context, identity, loggers, cancellationToken).ConfigureAwait(false);
        if (advertiserId is null)
        {
            return TypedResults.Unauthorized();
        }
        if (!QueryParameters.TryAdClicks(advertiserId, adId, from, to, granularity, out var query, out var problem))
        {
            return BadRequest(problem);
        }
        long started = Stopwatch.GetTimestamp();
        var clicks = await queries.GetAdClicksAsync(query, cancellationToken).ConfigureAwait(false);
        Log.AdQueried(logger, advertiserId, adId, query.Granularity.Code(), clicks?.Buckets.Count ?? -1, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return clicks is null ? NotFound() : TypedResults.Ok(clicks);
    }

    public static async Task<Results<Ok<AdvertiserAds>, UnauthorizedHttpResult, ProblemHttpResult>> ListAdsAsync(
        string advertiserId,
        [FromQuery] string? from,
        [FromQuery] string? to,
        HttpContext context,
        IAdvertiserIdentity identity,
        IClickQueries queries,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var (caller, _) = await AuthenticateAsync(context, identity, loggers, cancellationToken).ConfigureAwait(false);
        if (caller is null)
        {
            return TypedResults.Unauthorized();
        }
        // Another advertiser's listing is answered as if that advertiser did not exist, before looking at anything else.
        if (!string.Equals(caller, advertiserId, StringComparison.Ordinal))
        {
            return NotFound();
        }
        if (!QueryParameters.TryAdvertiserAds(caller, from, to, out var query, out var problem))
        {
            return BadRequest(problem);
        }
        return TypedResults.Ok(await queries.ListAdsAsync(query, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The caller's advertiser id, or null (logged) when the request carries no valid credentials.</summary>
    private static async Task<(string? AdvertiserId, ILogger Logger)> AuthenticateAsync(
        HttpContext context, IAdvertiserIdentity identity, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger(typeof(QueryEndpoints));
        string? advertiserId = await identity.ResolveAsync(context, cancellationToken).ConfigureAwait(false);
        if (advertiserId is null)
        {
            Log.Unauthenticated(logger, context.Request.Path);
        }
        return (advertiserId, logger);
    }

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
    }
}
