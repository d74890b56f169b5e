using ClickFunctions.Hosting.Http;
using ClickFunctions.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /api/ads/{adId}/clicks: the shared query handler (the same contract as the local host) over ADX. The caller is
/// the Easy Auth principal mapped to an advertiser (<see cref="Azure.Identity.AdvertiserPrincipals"/>), not a function key.
/// </summary>
public sealed class GetAdClicks(IClickQueries queries, ILoggerFactory loggers)
{
    [Function(nameof(GetAdClicks))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/ads/{adId}/clicks")] HttpRequest request,
        string adId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = request.HttpContext;
        var query = request.Query;
        var parameters = new AdClicksRequest(adId, query["from"], query["to"], query["granularity"], query["tz"], context, queries, loggers, context.RequestAborted);
        await QueryEndpoints.ServeAsync(context, typeof(AdClicksRequest), async () => await QueryEndpoints.GetAdClicksAsync(parameters).ConfigureAwait(false)).ConfigureAwait(false);
        // The handler wrote the whole response; nothing more to render.
        return new EmptyResult();
    }
}
