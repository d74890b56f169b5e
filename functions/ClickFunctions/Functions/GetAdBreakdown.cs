using ClickFunctions.Hosting.Http;
using ClickFunctions.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /api/ads/{adId}/breakdown: the shared breakdown handler (the same contract as the local host, docs/query-api.md)
/// over ADX's dimension views, for the Easy Auth principal's own ads (<see cref="Azure.Identity.AdvertiserPrincipals"/>).
/// </summary>
public sealed class GetAdBreakdown(IClickQueries queries)
{
    [Function(nameof(GetAdBreakdown))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/ads/{adId}/breakdown")] HttpRequest request,
        string adId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = request.HttpContext;
        var query = request.Query;
        var parameters = new AdBreakdownRequest(adId, query["by"], query["from"], query["to"], query["tz"], query["limit"], context, queries, context.RequestAborted);
        await QueryEndpoints.ServeAsync(context, typeof(AdBreakdownRequest), async () => await QueryEndpoints.GetAdBreakdownAsync(parameters).ConfigureAwait(false)).ConfigureAwait(false);
        // The handler wrote the whole response; nothing more to render.
        return new EmptyResult();
    }
}
