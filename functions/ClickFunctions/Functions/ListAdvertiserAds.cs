using ClickFunctions.Hosting.Http;
using ClickFunctions.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /api/advertisers/{advertiserId}/ads: the shared query handler (the same contract as the local host) over ADX,
/// for the Easy Auth principal's own advertiser only (<see cref="Azure.Identity.AdvertiserPrincipals"/>).
/// </summary>
public sealed class ListAdvertiserAds(IClickQueries queries)
{
    [Function(nameof(ListAdvertiserAds))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/advertisers/{advertiserId}/ads")] HttpRequest request,
        string advertiserId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = request.HttpContext;
        var query = request.Query;
        var parameters = new AdvertiserAdsRequest(advertiserId, query["from"], query["to"], query["limit"], query["cursor"], context, queries, context.RequestAborted);
        await QueryEndpoints.ServeAsync(context, typeof(AdvertiserAdsRequest), async () => await QueryEndpoints.ListAdsAsync(parameters).ConfigureAwait(false)).ConfigureAwait(false);
        // The handler wrote the whole response; nothing more to render.
        return new EmptyResult();
    }
}
