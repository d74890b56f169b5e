using ClickFunctions.Hosting.Http;
using ClickFunctions.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /api/ads/{adId}/clicks and GET /api/advertisers/{advertiserId}/ads: the shared query handlers (the same
/// contract as the local host) over ADX. The caller is the Easy Auth principal mapped to an advertiser
/// (<see cref="Azure.Identity.AdvertiserPrincipals"/>), not a function key.
/// </summary>
public sealed class QueryClicks(IAdvertiserIdentity identity, IClickQueries queries, ILoggerFactory loggers)
{
    public const string Route = "api/{resource:alpha}/{id}/{collection:alpha}";

    [Function(nameof(QueryClicks))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Route)] HttpRequest request,
        string resource,
        string id,
        string collection)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = request.HttpContext;
        var query = request.Query;
        IResult result = (resource, collection) switch
        {
            ("ads", "clicks") => await QueryEndpoints.GetAdClicksAsync(id, query["from"], query["to"], query["granularity"], context, identity, queries, loggers, context.RequestAborted).ConfigureAwait(false),
            ("advertisers", "ads") => await QueryEndpoints.ListAdsAsync(id, query["from"], query["to"], context, identity, queries, loggers, context.RequestAborted).ConfigureAwait(false),
            _ => TypedResults.NotFound(),
        };
        await result.ExecuteAsync(context).ConfigureAwait(false);
        return new EmptyResult();
    }
}
