using ClickFunctions.Hosting.Http;
using ClickFunctions.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ClickFunctions.Functions;

/// <summary>
/// GET /api/advertisers/{advertiserId}/breakdown: the shared breakdown handler (the same contract as the local host)
/// over ADX, by a dimension, ad or campaign, for the Easy Auth principal's own advertiser only.
/// </summary>
public sealed class GetAdvertiserBreakdown(IClickQueries queries)
{
    [Function(nameof(GetAdvertiserBreakdown))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/advertisers/{advertiserId}/breakdown")] HttpRequest request,
        string advertiserId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = request.HttpContext;
        var query = request.Query;
        var parameters = new AdvertiserBreakdownRequest(advertiserId, query["by"], query["from"], query["to"], query["tz"], query["limit"], context, queries, context.RequestAborted);
        await QueryEndpoints.ServeAsync(context, typeof(AdvertiserBreakdownRequest), async () => await QueryEndpoints.GetAdvertiserBreakdownAsync(parameters).ConfigureAwait(false)).ConfigureAwait(false);
        // The handler wrote the whole response; nothing more to render.
        return new EmptyResult();
    }
}
