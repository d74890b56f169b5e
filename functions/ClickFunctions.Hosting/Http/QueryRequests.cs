using ClickFunctions.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace ClickFunctions.Hosting.Http;

/// <summary>The advertiser a query request is authenticated as, set on the request by the query group's endpoint filter.</summary>
public sealed record QueryCaller(string AdvertiserId);

/// <summary>GET /api/ads/{adId}/clicks: what the handler takes (bound with [AsParameters]).</summary>
public sealed record AdClicksRequest(
    string AdId,
    [FromQuery] string? From,
    [FromQuery] string? To,
    [FromQuery] string? Granularity,
    [FromQuery] string? Tz,
    HttpContext Context,
    IClickQueries Queries,
    Microsoft.Extensions.Logging.ILoggerFactory Loggers,
    CancellationToken CancellationToken)
{
    /// <summary>The caller the endpoint filter resolved (a request that reaches the handler always has one).</summary>
    public QueryCaller Caller => Context.Features.GetRequiredFeature<QueryCaller>();
}

/// <summary>GET /api/advertisers/{advertiserId}/ads: what the handler takes (bound with [AsParameters]).</summary>
public sealed record AdvertiserAdsRequest(
    string AdvertiserId,
    [FromQuery] string? From,
    [FromQuery] string? To,
    [FromQuery] string? Limit,
    [FromQuery] string? Cursor,
    HttpContext Context,
    IClickQueries Queries,
    CancellationToken CancellationToken)
{
    /// <summary>The caller the endpoint filter resolved (a request that reaches the handler always has one).</summary>
    public QueryCaller Caller => Context.Features.GetRequiredFeature<QueryCaller>();
}

/// <summary>GET /api/ads/{adId}/breakdown: what the handler takes (bound with [AsParameters]).</summary>
public sealed record AdBreakdownRequest(
    string AdId,
    [FromQuery] string? By,
    [FromQuery] string? From,
    [FromQuery] string? To,
    [FromQuery] string? Tz,
    [FromQuery] string? Limit,
    HttpContext Context,
    IClickQueries Queries,
    CancellationToken CancellationToken)
{
    public QueryCaller Caller => Context.Features.GetRequiredFeature<QueryCaller>();
}

/// <summary>GET /api/advertisers/{advertiserId}/breakdown: what the handler takes (bound with [AsParameters]).</summary>
public sealed record AdvertiserBreakdownRequest(
    string AdvertiserId,
    [FromQuery] string? By,
    [FromQuery] string? From,
    [FromQuery] string? To,
    [FromQuery] string? Tz,
    [FromQuery] string? Limit,
    HttpContext Context,
    IClickQueries Queries,
    CancellationToken CancellationToken)
{
    public QueryCaller Caller => Context.Features.GetRequiredFeature<QueryCaller>();
}

/// <summary>GET /api/me: what the handler takes (no query parameters but <c>format</c>; bound with [AsParameters]).</summary>
public sealed record MeRequest(HttpContext Context, CancellationToken CancellationToken)
{
    public QueryCaller Caller => Context.Features.GetRequiredFeature<QueryCaller>();
}

/// <summary>
/// GET /api/me: who the presented credentials are. <see cref="TimeZone"/> is the advertiser's IANA zone (configured
/// <c>Advertisers:&lt;id&gt;:TimeZone</c>, else the one given when the admin API created it), or null.
/// </summary>
public sealed record AdvertiserProfile(string AdvertiserId, string? Name, string? TimeZone);
